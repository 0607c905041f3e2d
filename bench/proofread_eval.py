"""Precision and recall of the proofreading checker, per family, at sentence level.

    .venv/bin/python bench/proofread_eval.py [--family typo] [--set official|sighan|all]
        [--wheel PATH] [--cache DIR] [--json-only]

Two evaluation sets:

- official (bench/proofread_eval/official.jsonl): sentences of government notices,
  service guides and replies to citizens, written for this evaluation. Per family
  (typo, name, punctuation, number, personal_data, formulation, avoid) 32 sentences with
  one known error each, its span given, and 32 known-clean ones: the same sentences
  correct (minimal pairs). One JSON object a line: id, family, text, spans ([[start,
  end]], character offsets; [] for a clean sentence), and for an error the error and
  its correction. The name family is checked with `CONTEXT` below (an account's names,
  places, leaders and public numbers); every family is checked with the same context.
- sighan: the SIGHAN 2015 Chinese spelling check test set as pycorrector 1.1.4 ships it
  (pycorrector/data/sighan2015_test.tsv: source<TAB>correction, 707 sentences,
  simplified characters). It is not copied into the repository: the script reads it
  from pycorrector's wheel, fetched once from PyPI (`pip download --no-deps
  pycorrector==1.1.4`) into --cache and checked against its sha256, or from --wheel.

For a family F, on its own set of the official sentences: flagged = sentences with a
finding of family F; a true positive = an error sentence with a finding of F overlapping
the expected span; precision = true positives / flagged; recall = true positives / error
sentences; false alarms = clean sentences flagged. "elsewhere" counts the clean sentences
of the other families' sets that F flags. Warnings count as findings, like errors.

For SIGHAN (typo family only): a sentence with an error is one whose source differs from
its correction, the erroneous positions those where they differ. A flagged sentence is
correct if it has an error and a typo finding overlaps an erroneous position; precision
= correct / flagged; recall = correct / sentences with an error.

Prints a Markdown table, then the same figures as JSON.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govwx.content.proofread import (  # noqa: E402
    Context,
    Finding,
    Leader,
    check,
)

DATA = Path(__file__).resolve().parent / "proofread_eval"
OFFICIAL = DATA / "official.jsonl"
WHEEL_NAME = "pycorrector-1.1.4-py3-none-any.whl"
WHEEL_SHA256 = "62fba7a2573ff011b4c57f1fff301a7015cab339c567991aa0bb6ff53248b322"
SIGHAN_MEMBER = "pycorrector/data/sighan2015_test.tsv"
FAMILIES = ("typo", "name", "punctuation", "number", "personal_data", "formulation", "avoid")

CONTEXT = Context(
    names=(
        "示例市人民政府",
        "示例市市场监督管理局",
        "示例市住房公积金管理中心",
        "示例市生态环境局",
        "示例市人力资源和社会保障局",
        "示例市卫生健康委员会",
        "示例市交通运输局",
        "示例市医疗保障局",
        "示例市应急管理局",
        "示例市教育局",
        "示例市政务服务中心",
        "示例市城市管理局",
        "示例市民政局",
        "示例市文化广电旅游局",
        "示例市自然资源和规划局",
        "示例市退役军人事务局",
        "示例市税务局",
        "示例市农业农村局",
        "示例市市民之家",
        "示例市公共资源交易中心",
        "示例市数据资源管理局",
        "示例市公安局交通警察支队",
        "青石桥社区",
    ),
    places=("示例市", "示例", "东城区", "西城区", "西湖街道", "南山镇", "滨江新区"),
    leaders=(
        Leader("王建国", "市长"),
        Leader("李晓红", "副市长"),
        Leader("赵明远", "市委书记"),
        Leader("陈立新", "副市长"),
    ),
    public_numbers=("12345", "0571-12345678"),
)


def overlaps(finding: Finding, spans: Iterable[tuple[int, int]]) -> bool:
    for start, end in spans:
        if finding.start == finding.end:
            if start <= finding.start <= end:
                return True
        elif finding.start < end and start < finding.end:
            return True
    return False


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


# ------------------------------------------------------------------ official set


def load_official(path: Path = OFFICIAL) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate_official(families: Iterable[str]) -> list[dict[str, object]]:
    records = load_official()
    found = {str(r["id"]): check(str(r["text"]), CONTEXT) for r in records}
    rows = []
    for fam in families:
        own = [r for r in records if r["family"] == fam]
        errors = [r for r in own if r["spans"]]
        clean = [r for r in own if not r["spans"]]
        others_clean = [r for r in records if r["family"] != fam and not r["spans"]]

        def flags(record: dict[str, object], fam: str = fam) -> list[Finding]:
            return [f for f in found[str(record["id"])] if f.family == fam]

        flagged = [r for r in own if flags(r)]
        hits = [
            r
            for r in errors
            if any(overlaps(f, [tuple(s) for s in r["spans"]]) for f in flags(r))  # type: ignore[attr-defined]
        ]
        misses = [str(r["id"]) for r in errors if r not in hits]
        alarms = [str(r["id"]) for r in clean if flags(r)]
        elsewhere = [str(r["id"]) for r in others_clean if flags(r)]
        rows.append(
            {
                "set": "official",
                "family": fam,
                "error_sentences": len(errors),
                "clean_sentences": len(clean),
                "flagged": len(flagged),
                "true_positives": len(hits),
                "precision": ratio(len(hits), len(flagged)),
                "recall": ratio(len(hits), len(errors)),
                "false_alarms_clean": len(alarms),
                "false_alarms_elsewhere": len(elsewhere),
                "clean_elsewhere": len(others_clean),
                "missed": misses,
                "false_alarm_ids": alarms + elsewhere,
            }
        )
    return rows


# ------------------------------------------------------------------ SIGHAN 2015


def wheel_path(wheel: Path | None, cache: Path) -> Path:
    if wheel is None:
        wheel = cache / WHEEL_NAME
        if not wheel.exists():
            cache.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
                + ["--dest", str(cache), "pycorrector==1.1.4"],
                check=True,
            )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def load_sighan(wheel: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(SIGHAN_MEMBER).decode("utf-8")
    pairs = []
    for line in io.StringIO(raw):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 2:
            pairs.append((parts[0], parts[1]))
    return pairs


def error_positions(source: str, target: str) -> list[tuple[int, int]]:
    if len(source) == len(target):
        return [(i, i + 1) for i, (a, b) in enumerate(zip(source, target, strict=True)) if a != b]
    spans = []
    matcher = difflib.SequenceMatcher(None, source, target, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag != "equal":
            spans.append((i1, max(i2, i1 + 1)))
    return spans


def evaluate_sighan(wheel: Path) -> dict[str, object]:
    pairs = load_sighan(wheel)
    with_error = flagged = correct = alarms = 0
    for source, target in pairs:
        spans = error_positions(source, target)
        typos = [f for f in check(source) if f.family == "typo"]
        if spans:
            with_error += 1
        if typos:
            flagged += 1
            if spans and any(overlaps(f, spans) for f in typos):
                correct += 1
            if not spans:
                alarms += 1
    return {
        "set": "sighan2015",
        "family": "typo",
        "error_sentences": with_error,
        "clean_sentences": len(pairs) - with_error,
        "flagged": flagged,
        "true_positives": correct,
        "precision": ratio(correct, flagged),
        "recall": ratio(correct, with_error),
        "false_alarms_clean": alarms,
    }


# ------------------------------------------------------------------ output


def table(rows: list[dict[str, object]]) -> str:
    def show(value: object) -> str:
        return "–" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = [
        "| set | family | error sentences | clean sentences | flagged | true positives "
        "| precision | recall | false alarms (own clean) | false alarms (other clean) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        elsewhere = (
            f"{r['false_alarms_elsewhere']}/{r['clean_elsewhere']}"
            if "false_alarms_elsewhere" in r
            else "–"
        )
        lines.append(
            f"| {r['set']} | {r['family']} | {r['error_sentences']} | {r['clean_sentences']} "
            f"| {r['flagged']} | {r['true_positives']} | {show(r['precision'])} "
            f"| {show(r['recall'])} | {r['false_alarms_clean']} | {elsewhere} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=FAMILIES, action="append")
    parser.add_argument("--set", choices=("official", "sighan", "all"), default="all")
    parser.add_argument("--wheel", type=Path, help=f"a local {WHEEL_NAME}")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "cache" / "proofread_eval")
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args(argv)
    families = args.family or list(FAMILIES)
    began = time.perf_counter()
    rows: list[dict[str, object]] = []
    if args.set in ("official", "all"):
        rows.extend(evaluate_official(families))
    if args.set in ("sighan", "all") and "typo" in families:
        rows.append(evaluate_sighan(wheel_path(args.wheel, args.cache)))
    seconds = round(time.perf_counter() - began, 1)
    if not args.json_only:
        print(table(rows))
        print()
    print(json.dumps({"rows": rows, "seconds": seconds}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
