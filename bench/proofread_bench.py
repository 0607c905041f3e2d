"""Proofreading speed: the whole checker (`govwx.content.proofread.check`) on one core.

    .venv/bin/python bench/proofread_bench.py [--runs 30] [--rounds 5] [--context demo]

Loads the checker once (the load is timed apart: jieba's dictionary, the typo index,
the word lists), then measures with `time.process_time` (CPU time of this process, one
core): (a) a 5,000-character article of official writing with a few planted errors,
checked `--runs` times after one warm-up: median and p90 in ms; (b) a text of more than
200,000 characters, the same sentences shuffled into new paragraphs, checked once a
round for `--rounds` rounds: characters a second (median). Both as if every clause were
new: the typo family's memory of clauses (`typos.REMEMBER`) is off, so a clause met
again costs as much as the first time. Each family is timed apart on both texts; then
the article checked again with that memory on (the editor checks at each save). `--context demo` checks with a context of a few thousand names, places,
leaders and formulations (an account's realistic load) instead of an empty one.
`--sighan`: also the SIGHAN 2015 sentences, each once, as one text (real sentences, none
repeated). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govwx.content.proofread import (  # noqa: E402
    FAMILIES,
    NAME,
    AvoidWord,
    Context,
    Formulation,
    Leader,
    check,
    names,  # noqa: E402
)
from govwx.content.tests.proofread_texts import CLEAN_PARAGRAPHS  # noqa: E402
from govwx.content.tests.test_proofread_typos import (  # noqa: E402
    CLEAN_PARAGRAPHS as OFFICIAL_PARAGRAPHS,
)
from govwx.content.tests.test_proofread_typos import (  # noqa: E402
    CLEAN_SENTENCES,
    TYPO_SENTENCES,
)

ARTICLE_CHARS = 5_000
LONG_CHARS = 200_000
# errors of several families, planted in the article
PLANTED = (
    "各乡镇要切实做好防汛工做，全面排查公共安全隐换。",
    "截止12月5日，全市已累计发放补贴3000万元,惠及群众1.2万户。",
    "要进一步优化营商环竟，激发市场活力，请联系张三13912345678。",
    "会议强调，要高度重视、认真落实、进一步提高服务质量，确保各项工作取得实效。",
)


def paragraphs() -> list[str]:
    return list(OFFICIAL_PARAGRAPHS) + list(CLEAN_PARAGRAPHS)


def article(chars: int = ARTICLE_CHARS) -> str:
    """About `chars` characters: the clean paragraphs once each (then again), a few
    sentences of the typo test set, and the planted errors spread among them."""
    parts: list[str] = []
    pool = paragraphs()
    sentences = [s for s, _ in TYPO_SENTENCES[:6]] + list(CLEAN_SENTENCES[:20])
    i = 0
    while sum(len(p) + 1 for p in parts) < chars:
        parts.append(pool[i % len(pool)])
        if i < len(PLANTED):
            parts.append(PLANTED[i])
        if i % 3 == 2:
            parts.append(
                "".join(sentences[(i * 2) % len(sentences) : (i * 2) % len(sentences) + 3])
            )
        i += 1
    return "\n".join(parts)[:chars]


def long_text(chars: int = LONG_CHARS, seed: int = 7) -> str:
    """More than `chars` characters: the sentences of every paragraph and of the typo
    test set, shuffled into paragraphs of eight (so the clauses meet new neighbours)."""
    rng = random.Random(seed)
    sentences: list[str] = []
    for p in paragraphs():
        sentences += [s + "。" for s in p.split("。") if s]
    sentences += [s for s, _ in TYPO_SENTENCES] + list(CLEAN_SENTENCES) + list(PLANTED)
    out: list[str] = []
    total = 0
    while total < chars:
        rng.shuffle(sentences)
        for k in range(0, len(sentences), 8):
            block = "".join(sentences[k : k + 8])
            out.append(block)
            total += len(block) + 1
    return "\n".join(out)


def demo_context(size: int = 3000, seed: int = 11) -> Context:
    """A few thousand names of departments and services, places, leaders and
    formulations, made from real words so that near misses do occur."""
    rng = random.Random(seed)
    heads = ["示例市", "示例县", "示例区", "东城街道", "西湖镇", "南山乡", "北港区", "新城"]
    bodies = [
        "政务服务中心",
        "人力资源和社会保障局",
        "生态环境局",
        "市场监督管理局",
        "卫生健康委员会",
        "教育局",
        "公安局交警支队",
        "城市管理局",
        "住房和城乡建设局",
        "应急管理局",
        "农业农村局",
        "文化广电旅游局",
        "社区卫生服务中心",
        "便民服务中心",
        "退役军人事务局",
        "医疗保障局",
    ]
    tails = ["", "办公室", "第一分局", "第二分局", "服务窗口", "党支部", "执法大队", "综合科"]
    names: set[str] = set()
    while len(names) < size:
        names.add(
            rng.choice(heads) + rng.choice(bodies) + rng.choice(tails) + str(rng.randint(1, 60))
        )
    places = tuple(f"{h}{k}村" for h in ("东", "西", "南", "北", "上", "下") for k in range(1, 200))
    family_names = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "建国明华丽军伟芳秀英志强敏静磊洋艳勇杰娟涛超"
    leaders = tuple(
        Leader(rng.choice(family_names) + rng.choice(given) + rng.choice(given), title)
        for title in ("市长", "副市长", "书记", "局长", "主任", "区长") * 20
    )
    phrases = [s.rstrip("。") for p in paragraphs() for s in p.split("，") if 6 <= len(s) <= 16]
    formulations = tuple(Formulation(p) for p in sorted(set(phrases))[:1500])
    avoid = tuple(AvoidWord(f"避用词{i}", "示例") for i in range(200))
    return Context(
        names=tuple(sorted(names)),
        places=places,
        national_places=("北京", "上海", "杭州", "广州", "深圳"),
        leaders=leaders,
        public_numbers=("12345", "0571-88001234"),
        formulations=formulations,
        avoid=avoid,
    )


def fresh_names(text: str, context: Context) -> None:
    names._found.clear()
    FAMILIES[NAME](text, context)


def cpu_ms(fn: Any, *args: Any) -> float:
    began = time.process_time()
    fn(*args)
    return (time.process_time() - began) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--context", choices=("empty", "demo"), default="empty")
    parser.add_argument(
        "--sighan",
        action="store_true",
        help="also SIGHAN 2015's sentences, unrepeated, as one text (bench/proofread_eval.py "
        "fetches pycorrector's wheel that holds them)",
    )
    args = parser.parse_args()

    began = time.process_time()
    from govwx.content.proofread import (
        families,  # noqa: F401  (registers them)
        typos,
    )
    from govwx.content.proofread.lexicon import han_runs, load

    remember = typos.REMEMBER

    load()
    context = demo_context() if args.context == "demo" else Context()
    check("示例市政务服务中心开展便民服务。", context)  # the context's automata
    load_ms = (time.process_time() - began) * 1000

    short, long = article(), long_text()
    check(short, context)  # warm-up

    # Every clause new: nothing remembered (typos.REMEMBER = 0), the first check of an
    # article whose clauses the process has never met.
    typos.REMEMBER = 0
    typos.forget()
    runs = [cpu_ms(check, short, context) for _ in range(args.runs)]
    rounds = [cpu_ms(check, long, context) for _ in range(args.rounds)]
    per_family: dict[str, dict[str, float]] = {}
    for name, fn in FAMILIES.items():
        if name == NAME:
            # the name family's findings are kept for the typo family (names.find): the
            # name family pays for them, the typo family (run after it) reuses them
            fn = fresh_names
        short_ms = statistics.median(cpu_ms(fn, short, context) for _ in range(5))
        long_ms = cpu_ms(fn, long, context)
        per_family[name] = {
            "article_ms": round(short_ms, 2),
            "long_ms": round(long_ms, 1),
        }
    # The same article checked again (the editor checks at each save): its clauses are
    # remembered.
    typos.REMEMBER = remember
    check(short, context)
    again = [cpu_ms(check, short, context) for _ in range(args.runs)]
    clauses = [run for _, run in han_runs(long)]
    from govwx.content.proofread import compiled

    result = {
        "context": args.context,
        "compiled": compiled.state(),
        "load_ms": round(load_ms),
        "article": {
            "chars": len(short),
            "findings": len(check(short, context)),
            "runs": args.runs,
            "median_ms": round(statistics.median(runs), 2),
            "p90_ms": round(percentile(runs, 0.9), 2),
            "checked_again_median_ms": round(statistics.median(again), 2),
        },
        "long": {
            "chars": len(long),
            "clauses": len(clauses),
            "distinct_clauses": len(set(clauses)),
            "findings": len(check(long, context)),
            "rounds": args.rounds,
            "median_ms": round(statistics.median(rounds), 1),
            "chars_per_s": round(len(long) / (statistics.median(rounds) / 1000)),
        },
        "families": per_family,
    }
    if args.sighan:
        import proofread_eval

        typos.REMEMBER = 0
        typos.forget()
        wheel = proofread_eval.wheel_path(
            None, proofread_eval.ROOT / "var" / "cache" / "proofread_eval"
        )
        text = "\n".join(dict.fromkeys(s for s, _ in proofread_eval.load_sighan(wheel)))
        times = [cpu_ms(check, text, context) for _ in range(args.rounds)]
        result["sighan"] = {
            "chars": len(text),
            "rounds": args.rounds,
            "median_ms": round(statistics.median(times), 1),
            "chars_per_s": round(len(text) / (statistics.median(times) / 1000)),
        }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
