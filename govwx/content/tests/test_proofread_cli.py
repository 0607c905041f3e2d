"""`govwx proofread`: texts a line from a file or standard input, plain or JSON output,
an account's context, clear errors on bad input and the exit status for CI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from govwx.accounts.models import Account, Department, Organisation
from govwx.content.models import ProofEntry
from govwx.content.proofread import context as ctx

from .proofread_texts import CLEAN_PARAGRAPHS

GOVWX = Path(sys.executable).with_name("govwx")
INPUT = "我们今天开会,讨论工作.\n\n请联系张先生13812345678。\n"
MINE = ["--family", "punctuation", "--family", "personal_data"]


@pytest.fixture(autouse=True)
def _fresh_contexts() -> Any:
    ctx.forget()
    yield
    ctx.forget()


def proofread(*args: str, stdin: bytes = b"") -> str:
    out = io.StringIO()
    call_command("proofread", *args, stdin=io.BytesIO(stdin), stdout=out)
    return out.getvalue()


def test_it_prints_one_line_per_finding() -> None:
    assert proofread(*MINE, stdin=INPUT.encode()).splitlines() == [
        "1:6-7 error punctuation 「,」→「，」 中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）",
        "1:11-12 error punctuation 「.」→「。」 中文语句中的句号应使用全角形式「。」（GB/T 15834-2011）",
        "3:6-17 veto personal_data 「13812345678」→「138****5678」 "
        "含有手机号码，发布前应删除或遮盖（《个人信息保护法》）",
    ]


def test_it_prints_one_json_object_per_input_line() -> None:
    lines = proofread("--json", *MINE, stdin=INPUT.encode()).splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "line": 1,
            "findings": [
                {
                    "start": 6,
                    "end": 7,
                    "text": ",",
                    "family": "punctuation",
                    "severity": "error",
                    "message": "中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）",
                    "suggestion": "，",
                },
                {
                    "start": 11,
                    "end": 12,
                    "text": ".",
                    "family": "punctuation",
                    "severity": "error",
                    "message": "中文语句中的句号应使用全角形式「。」（GB/T 15834-2011）",
                    "suggestion": "。",
                },
            ],
        },
        {"line": 2, "findings": []},
        {
            "line": 3,
            "findings": [
                {
                    "start": 6,
                    "end": 17,
                    "text": "13812345678",
                    "family": "personal_data",
                    "severity": "veto",
                    "message": "含有手机号码，发布前应删除或遮盖（《个人信息保护法》）",
                    "suggestion": "138****5678",
                }
            ],
        },
    ]
    assert "\\u" not in lines[0]  # ensure_ascii=False: the Chinese as it is


def test_all_families_run_without_family_and_line_breaks_are_not_text() -> None:
    text = "坚持中国特色社会义道路,稳步推进。\r\n" + "\n".join(CLEAN_PARAGRAPHS)
    records = [json.loads(line) for line in proofread("--json", stdin=text.encode()).splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    first = {(f["family"], f["text"], f["severity"]) for f in records[0]["findings"]}
    assert ("formulation", "中国特色社会义", "error") in first
    assert ("punctuation", ",", "error") in first
    assert all(f["end"] <= len("坚持中国特色社会义道路,稳步推进。") for f in records[0]["findings"])


def test_it_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes("\ufeff还有很多...\n".encode())  # a byte order mark is no text
    assert proofread(*["--family", "punctuation"], str(path)).splitlines() == [
        "1:4-7 error punctuation 「...」→「……」 省略号的形式是「……」（两个「…」，六个点，占两个字的位置）"
        "（GB/T 15834-2011）"
    ]


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="无法读取文件") as caught:
        proofread(str(tmp_path / "missing.txt"))
    assert caught.value.returncode == 2


def test_input_that_is_not_utf8_is_an_error() -> None:
    with pytest.raises(CommandError, match="不是 UTF-8 文本") as caught:
        proofread(stdin="我们开会".encode("gb18030"))
    assert caught.value.returncode == 2


@pytest.mark.django_db
def test_an_unknown_account_is_an_error() -> None:
    with pytest.raises(CommandError, match="没有 AppID 为 wxnobody 的公众号") as caught:
        proofread("--account", "wxnobody", stdin=b"text\n")
    assert caught.value.returncode == 2


@pytest.mark.django_db
def test_the_account_context_is_used(account: Account, cache_table: None) -> None:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    Department.objects.create(organisation=org, name="示例市水务局")
    ProofEntry.objects.create(
        account=account, kind=ProofEntry.Kind.PUBLIC_NUMBER, text="0571-88001234"
    )
    ProofEntry.objects.create(
        account=account, kind=ProofEntry.Kind.FORMULATION, text="示例市数据资源管理局"
    )
    text = "水务局电话0571-88001234，示例市数据资源管局发布。\n".encode()
    without = [
        (f["family"], f["text"])
        for f in json.loads(proofread("--json", *MINE, "--family", "formulation", stdin=text))[
            "findings"
        ]
    ]
    assert without == [("personal_data", "0571-88001234")]
    with_account = json.loads(
        proofread(
            "--json", *MINE, "--family", "formulation", "--account", account.appid, stdin=text
        )
    )
    assert [(f["family"], f["text"], f["suggestion"]) for f in with_account["findings"]] == [
        ("formulation", "示例市数据资源管局", "示例市数据资源管理局")
    ]


def test_fail_on_error_exits_1_when_an_error_or_a_veto_is_found() -> None:
    with pytest.raises(CommandError) as caught:
        proofread("--fail-on", "error", "--family", "punctuation", stdin="开会,讨论\n".encode())
    assert caught.value.returncode == 1
    # warnings only: no failure
    proofread("--fail-on", "error", "--family", "punctuation", stdin="通 知\n".encode())


def test_fail_on_veto_ignores_errors() -> None:
    proofread("--fail-on", "veto", *MINE, stdin="开会,讨论\n".encode())
    with pytest.raises(CommandError, match="veto") as caught:
        proofread("--fail-on", "veto", *MINE, stdin="电话13812345678\n".encode())
    assert caught.value.returncode == 1


def _run(args: list[str], stdin: bytes, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "GOVWX_DATA_DIR": str(tmp_path),
        "GOVWX_SECRET_KEY": "proofread-cli-test-" + "k" * 40,
        "DJANGO_SETTINGS_MODULE": "govwx.settings",
    }
    return subprocess.run(
        [str(GOVWX), "proofread", *args], input=stdin, capture_output=True, env=env, timeout=120
    )


def test_the_installed_command_reads_standard_input(tmp_path: Path) -> None:
    done = _run(["--json"], INPUT.encode(), tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3]
    assert records[1] == {"line": 2, "findings": []}
    assert {(f["family"], f["text"]) for f in records[0]["findings"]} >= {
        ("punctuation", ","),
        ("punctuation", "."),
    }
    assert ("personal_data", "13812345678", "138****5678") in {
        (f["family"], f["text"], f["suggestion"]) for f in records[2]["findings"]
    }


def test_the_installed_command_exit_statuses(tmp_path: Path) -> None:
    failed = _run(["--fail-on", "veto", *MINE], "电话13812345678\n".encode(), tmp_path)
    assert failed.returncode == 1
    assert "1:2-13 veto personal_data" in failed.stdout.decode()
    bad = _run([], b"\xff\xfe\n", tmp_path)
    assert bad.returncode == 2
    assert "不是 UTF-8 文本" in bad.stderr.decode()
