"""The typo family compiled (setup.py, mypyc) and as source: compiled where a C compiler
is at hand, the same findings either way, and a compiled module whose source changed
since never used."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from govwx.content.proofread import compiled

from .proofread_texts import CLEAN_PARAGRAPHS
from .test_proofread_typos import CLEAN_PARAGRAPHS as OFFICIAL_PARAGRAPHS
from .test_proofread_typos import CLEAN_SENTENCES, TYPO_SENTENCES

EVALUATION = Path(__file__).resolve().parents[3] / "bench" / "proofread_eval" / "official.jsonl"

# Prints, as JSON, which modules run compiled and the findings of each text read (one a
# line) with an empty context and with one of names, leaders and formulations.
CHECK = """
import json, sys
from govwx.content.proofread import Context, Formulation, Leader, check, compiled
texts = sys.stdin.read().split("\\n")
context = Context(
    names=("示例市政务服务中心", "示例市人力资源和社会保障局"),
    places=("东城街道", "西湖镇"),
    leaders=(Leader("王建国", "市长"),),
    formulations=(Formulation("人民代表大会制度"),),
)
found = [
    [[f.start, f.end, f.family, f.severity, f.rule, f.suggestion, f.message]
     for f in check(text, c)]
    for c in (Context(), context) for text in texts
]
print(json.dumps({"compiled": compiled.in_use(), "found": found}, ensure_ascii=False))
"""


def texts() -> list[str]:
    found = [s for s, _ in TYPO_SENTENCES] + list(CLEAN_SENTENCES)
    found += list(OFFICIAL_PARAGRAPHS) + list(CLEAN_PARAGRAPHS)
    found += [json.loads(line)["text"] for line in EVALUATION.read_text("utf-8").splitlines()]
    found += ["", "報名截止日期：12月5日。", "emoji 😀 工做\u0007 <b>疫情防空</b>"]
    return [t.replace("\n", " ") for t in found]


def run(compiled_flag: str) -> dict[str, object]:
    env = {**os.environ, "GOVWX_PROOFREAD_COMPILED": compiled_flag}
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        input="\n".join(texts()).encode(),
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, object] = json.loads(done.stdout)
    return result


def a_compiler() -> bool:
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
    return bool(cc) and shutil.which(cc[0]) is not None


@pytest.mark.skipif(not a_compiler(), reason="no C compiler: the typo family runs as source")
def test_the_typo_family_runs_compiled_where_a_compiler_is_at_hand() -> None:
    assert compiled.state() == "compiled", (
        "the compiled typo family is missing or its source changed since: `make` compiles it"
    )
    assert compiled.in_use() == {"lexicon": True, "typos": True}


def test_compiled_and_source_find_the_same() -> None:
    fast, slow = run("1"), run("0")
    assert slow["compiled"] == {"lexicon": False, "typos": False}
    if a_compiler():
        assert fast["compiled"] == {"lexicon": True, "typos": True}
    assert len(fast["found"]) == 2 * len(texts())  # type: ignore[arg-type]
    assert fast["found"] == slow["found"]
    assert any(fast["found"])  # the texts hold errors: the comparison is not of nothing


def _package(tmp_path: Path, built: bool) -> Path:
    for name in compiled.MODULES:
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
        if built:
            suffix = compiled.importlib.machinery.EXTENSION_SUFFIXES[0]
            (tmp_path / f"{name}{suffix}").write_text("")
    return tmp_path


def test_a_source_changed_since_it_was_compiled_is_stale(tmp_path: Path) -> None:
    assert compiled.state(_package(tmp_path, built=False), environ={}) == "source"
    package = _package(tmp_path, built=True)
    assert compiled.state(package, environ={}) == "stale"  # built, the sources unrecorded
    (package / compiled.RECORD).write_text(compiled.digests(package))
    assert compiled.state(package, environ={}) == "compiled"
    (package / "typos.py").write_text("# typos, edited\n")
    assert compiled.state(package, environ={}) == "stale"
    (package / "typos.py").write_text("# typos\n")  # as compiled again (a checkout back)
    assert compiled.state(package, environ={}) == "compiled"
    assert compiled.state(package, environ={"GOVWX_PROOFREAD_COMPILED": "0"}) == "off"


def test_a_stale_compiled_module_runs_as_source_with_a_warning(tmp_path: Path) -> None:
    """A copy of the package whose source changed since it was compiled."""
    source = Path(compiled.__file__).resolve().parent
    copy = tmp_path / "govwx" / "content" / "proofread"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for parent in (copy.parent, copy.parent.parent):
        (parent / "__init__.py").write_text("")
    if not any(compiled.built(copy, name) for name in compiled.MODULES):
        pytest.skip("not compiled here")
    assert compiled.state(copy) == "compiled"
    with (copy / "typos.py").open("a") as source:
        source.write("\n# edited since it was compiled\n")
    script = (
        "import warnings; warnings.simplefilter('always')\n"
        "from govwx.content.proofread import compiled, check\n"
        "print(compiled.state(), compiled.in_use()['typos'], len(check('各乡镇要做好防汛工做。')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["stale", "False", "1"]
    assert "changed since it was compiled" in done.stderr.decode()
