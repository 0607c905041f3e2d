"""The English catalogue is complete and its compiled .mo matches the .po."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr (plural entries: msgstr[1]); enough of the format for our file."""
    entries: dict[str, str] = {}
    key: str | None = None
    current: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if "msgid" in current and current["msgid"]:
                entries[current["msgid"]] = current.get("msgstr", current.get("msgstr[1]", ""))
            current, key = {}, None
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert key is not None
            current[key] += ast.literal_eval(line)
            continue
        key, _, rest = line.partition(" ")
        current[key] = ast.literal_eval(rest)
    return entries


def test_every_message_has_an_english_translation() -> None:
    entries = read_po(LOCALE / "django.po")
    assert len(entries) > 150
    assert [m for m, s in entries.items() if not s] == []


def test_the_compiled_catalogue_matches_the_po() -> None:
    with open(LOCALE / "django.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    entries = read_po(LOCALE / "django.po")
    stale = [
        m
        for m, s in entries.items()
        if "msgid_plural" not in m and mo.gettext(m) != s and mo.ngettext(m, m, 2) != s
    ]
    assert stale == []


def test_model_names_are_translated() -> None:
    from govwx.replies.models import Rule
    from govwx.wechat.models import InboundMessage

    with translation.override("en"):
        assert str(Rule._meta.verbose_name) == "Keyword rule"
        assert str(InboundMessage._meta.verbose_name) == "Inbound message"
    with translation.override("zh-hans"):
        assert str(Rule._meta.verbose_name) == "关键词规则"


@pytest.mark.django_db
def test_the_rule_form_is_english_in_english(client: Client, operator: object) -> None:
    client.force_login(operator)  # type: ignore[arg-type]
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/rules/new/").content.decode()
    assert "One keyword per line, at most 10." in body
    assert "每行一个关键词" not in body
