"""A page the role may not open: the console's own page (the nav around it), in the
person's language, naming what the page needs and the roles that have it; the log gets
one warning line, no error and no traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from govwx.accounts.models import Account, Membership
from govwx.accounts.permissions import denied
from govwx.accounts.services import add_member
from govwx.console.forbidden import forbidden_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("bianji", first_name="王编辑")
    add_member(account, user, Membership.Role.EDITOR)
    return user


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_shows_the_consoles_page_naming_the_roles(
    account: Account, editor: Any, caplog: Any
) -> None:
    client = Client()
    client.force_login(editor)
    with caplog.at_level(logging.DEBUG):
        r = client.get("/desk/cases/")
    assert r.status_code == 403
    html = r.content.decode()
    text = text_of(html)
    assert 'class="mainnav"' in html and 'id="bell"' in html  # the console around it
    assert "您的角色不能打开这个页面" in text
    assert "这个页面需要的权限：诉求：查看诉求（部门联络员仅本部门）" in text
    assert "可以打开的角色： 管理员、运营人员（值班员）、部门联络员、督办人（带班领导）" in text
    assert f"您在「{account.name}」的角色：编辑。" in text
    assert "403 Forbidden" not in html
    # one warning for the response, with no traceback; nothing at ERROR
    records = [r for r in caplog.records if r.name.startswith("django")]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in records] == [
        ("WARNING", "Forbidden: /desk/cases/", None)
    ]


def test_it_speaks_the_persons_language(editor: Any) -> None:
    client = Client()
    client.force_login(editor)
    client.cookies["django_language"] = "en"
    r = client.get("/desk/cases/")
    assert r.status_code == 403
    html = r.content.decode()
    assert '<html lang="en">' in html
    assert ">Home</a>" in html  # the nav in English


def test_a_post_refused_by_the_table_gets_the_same_page(
    account: Account, editor: Any, caplog: Any
) -> None:
    client = Client()
    client.force_login(editor)
    with caplog.at_level(logging.DEBUG):
        r = client.post("/desk/cases/1/act/", {"action": "take", "revision": "1"})
    assert r.status_code == 403
    text = text_of(r.content.decode())
    assert (
        "这个页面需要的权限：诉求：领取、答复、请群众补充、备注、办结（部门联络员仅本部门主办的）"
        in text
    )
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_refusal_in_its_own_words_shows_its_chinese_half(account: Account, editor: Any) -> None:
    request = RequestFactory().get("/team/rotas/1/")
    request.user = editor
    request.session = {}  # type: ignore[assignment]
    r = forbidden_page(request, PermissionDenied("没有换班权限 / not permitted to swap"))
    text = text_of(r.content.decode())
    assert r.status_code == 403
    assert "没有换班权限" in text and "not permitted" not in text
    # English only (no Chinese half): a sentence of our own instead of English words
    r = forbidden_page(request, PermissionDenied("not a member of this account"))
    assert "您没有进行此操作的权限。" in text_of(r.content.decode())


def test_the_refusal_carries_its_permission() -> None:
    exc = denied("cases.route")
    assert exc.permission == "cases.route"  # type: ignore[attr-defined]
    assert str(exc) == "没有权限：诉求：转办、协办、延期、催办、关闭 / not permitted: cases.route"
