"""`govwx rules import|export`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from govwx.accounts.models import Account
from govwx.conftest import APPID
from govwx.replies.models import Rule

from .test_services import BENCH_LIKE

pytestmark = pytest.mark.django_db


def test_import_then_export(account: Account, tmp_path: Path) -> None:
    src = tmp_path / "rules.json"
    src.write_text(json.dumps(BENCH_LIKE, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("rules", "import", "--account", APPID, str(src), stdout=out)
    assert "3" in out.getvalue() and Rule.objects.count() == 3
    dst = tmp_path / "out.json"
    call_command("rules", "export", "--account", APPID, str(dst))
    doc = json.loads(dst.read_text(encoding="utf-8"))
    assert [r["id"] for r in doc["rules"]] == [1, 2, 3]
    assert doc["welcome"] == "欢迎关注"


def test_bad_files_are_refused(account: Account, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="JSON"):
        call_command("rules", "import", "--account", APPID, str(bad))
    with pytest.raises(CommandError, match="无法读取"):
        call_command("rules", "import", "--account", APPID, str(tmp_path / "missing.json"))
    bad.write_text(json.dumps({"rules": [{"id": 1, "keywords": []}]}), encoding="utf-8")
    with pytest.raises(CommandError, match="keywords"):
        call_command("rules", "import", "--account", APPID, str(bad))
    with pytest.raises(CommandError, match="wx0000000000000000"):
        call_command("rules", "import", "--account", "wx0000000000000000", str(bad))
    assert not Rule.objects.exists()
