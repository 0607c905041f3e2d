"""设置 › 校对词表 (/settings/proofread/): the lists by kind with add, retire and paste-import,
the installation's lists beside the account's, and the test box marking what the checker
finds. Staff read it; admins and reviewers write; the installation's lists are the
superuser's; another account's people see and change nothing of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member
from govwx.content.models import ProofEntry
from govwx.content.proofread import context as ctx
from govwx.content.proofread import personal  # noqa: F401  (registers the family the test box shows)
from govwx.content.proofread.views import segments

pytestmark = pytest.mark.django_db
URL = reverse("proofread:word_lists")
Kind = ProofEntry.Kind


@pytest.fixture(autouse=True)
def _fresh_contexts() -> Any:
    ctx.forget()
    yield
    ctx.forget()


def audits() -> list[str]:
    return list(
        AuditEvent.objects.filter(name__startswith="proofread.")
        .order_by("pk")
        .values_list("name", flat=True)
    )


def body(response: Any) -> str:
    return response.content.decode()


def rows(response: Any, kind: str) -> list[str]:
    """The entries' words shown in a kind's section."""
    section = re.search(
        rf'<section class="card" id="list-{kind}">(.*?)</section>', body(response), re.S
    )
    assert section, kind
    return re.findall(
        r"<tr data-entry=\"\d+\">\s*<td[^>]*><strong>(.*?)</strong>", section.group(1)
    )


def entry(
    account: Account | None, kind: str, text: str, extra: str = "", note: str = ""
) -> ProofEntry:
    return ProofEntry.objects.create(account=account, kind=kind, text=text, extra=extra, note=note)


@pytest.fixture
def admin_client(client: Client, account_admin: Any) -> Client:
    client.force_login(account_admin)
    return client


def test_it_lists_the_accounts_and_the_installations_entries_by_kind(
    admin_client: Client, account: Account, other_account: Account
) -> None:
    entry(account, Kind.LEADER, "张三", "市长")
    entry(None, Kind.FORMULATION, "人民代表大会制度")
    entry(other_account, Kind.LEADER, "王五", "县长")
    r = admin_client.get(URL)
    assert r.status_code == 200
    assert rows(r, "leader") == ["张三"]
    assert rows(r, "formulation") == ["人民代表大会制度"]
    assert rows(r, "avoid") == []
    html = body(r)
    assert "<h1>校对词表</h1>" in html
    assert 'id="nav-proofread"' in html and "read-only" not in html
    # the installation's entry: no retire button for the account's admin
    formulation = html.split('id="list-formulation"')[1].split("</section>")[0]
    assert 'value="retire"' not in formulation


def test_it_adds_an_entry_audited(
    admin_client: Client, account: Account, account_admin: Any
) -> None:
    r = admin_client.post(URL, {"action": "add", "kind": "leader", "text": "张三", "extra": "市长",
                                "note": "市政府"})  # fmt: skip
    assert r.status_code == 302 and r["Location"] == URL + "#list-leader"
    e = ProofEntry.objects.get()
    assert (e.account, e.kind, e.text, e.extra, e.note, e.created_by) == (
        account, "leader", "张三", "市长", "市政府", account_admin)  # fmt: skip
    assert audits() == ["proofread.entry_added"]
    page = admin_client.get(URL)
    assert "已添加领导姓名职务「张三」" in body(page)
    assert rows(page, "leader") == ["张三"]


def test_a_bad_entry_is_refused_in_words_and_nothing_is_added(admin_client: Client) -> None:
    r = admin_client.post(URL, {"action": "add", "kind": "avoid", "text": "拍脑袋", "extra": "",
                                "note": ""})  # fmt: skip
    assert r.status_code == 400
    section = body(r).split('id="list-avoid"')[1].split("</section>")[0]
    assert "禁用词须说明理由" in section
    assert 'value="拍脑袋"' in section  # what was typed, kept
    assert not ProofEntry.objects.exists() and audits() == []


def test_it_retires_an_entry_kept_and_audited(admin_client: Client, account: Account) -> None:
    e = entry(account, Kind.PLACE, "西湖区")
    r = admin_client.post(URL, {"action": "retire", "entry": e.pk, "kind": "place"})
    assert r.status_code == 302
    e.refresh_from_db()
    assert e.retired_at is not None
    assert rows(admin_client.get(URL), "place") == []
    assert audits() == ["proofread.entry_retired"]


def test_an_import_with_a_bad_line_names_it_and_adds_nothing(admin_client: Client) -> None:
    r = admin_client.post(URL, {"action": "import", "kind": "misused",
                                "lines": "既使|即使\n按装|\n渡过难关|度过难关"})  # fmt: skip
    assert r.status_code == 400
    section = body(r).split('id="list-misused"')[1].split("</section>")[0]
    assert "第 2 行：请填写正确写法" in section
    assert '<details class="pf-import" open>' in section
    assert not ProofEntry.objects.exists()
    r = admin_client.post(URL, {"action": "import", "kind": "misused",
                                "lines": "既使|即使\n按装|安装\n"})  # fmt: skip
    assert r.status_code == 302
    assert list(ProofEntry.objects.order_by("id").values_list("text", "extra")) == [
        ("既使", "即使"), ("按装", "安装")]  # fmt: skip


def test_the_test_box_marks_what_the_checker_finds(admin_client: Client, account: Account) -> None:
    text = "请拨打 13812345678 或 0571-87654321 咨询"
    r = admin_client.post(URL, {"action": "try", "text": text})
    assert r.status_code == 200
    html = body(r)
    found = re.findall(
        r'<li data-family="personal_data" data-severity="(\w+)" data-rule="([\w.]+)">', html
    )
    assert found == [("veto", "personal_data.mobile"), ("veto", "personal_data.landline")]
    assert '<mark class="pf pf-veto" data-findings="1">13812345678<sup>1</sup></mark>' in html
    # the office's number, once listed as public, is left alone
    entry(account, Kind.PUBLIC_NUMBER, "0571-87654321", "市民热线")
    ctx.bump()
    html = body(admin_client.post(URL, {"action": "try", "text": text}))
    found = re.findall(
        r'<li data-family="personal_data" data-severity="(\w+)" data-rule="([\w.]+)">', html
    )
    assert found == [("veto", "personal_data.mobile")]
    assert "0571-87654321" in html  # shown unmarked


def test_the_test_box_with_nothing_found(admin_client: Client) -> None:
    html = body(admin_client.post(URL, {"action": "try", "text": "今天天气很好"}))
    assert 'data-family="personal_data"' not in html


def test_segments_cut_overlapping_findings() -> None:
    from govwx.content.proofread import Finding

    a = Finding(2, 6, "cdef", "avoid", "error", "m")
    b = Finding(4, 8, "efgh", "tone", "warning", "m")
    cut = [(s.text, s.numbers, s.severity) for s in segments("abcdefghij", [a, b])]
    assert cut == [("ab", [], ""), ("cd", [1], "error"), ("ef", [1, 2], "error"),
                   ("gh", [2], "warning"), ("ij", [], "")]  # fmt: skip


def test_a_reviewer_writes_an_editor_reads_and_tries(
    client: Client, account: Account, reviewer: Any, editor: Any
) -> None:
    e = entry(account, Kind.PLACE, "西湖区")
    client.force_login(editor)
    r = client.get(URL)
    assert r.status_code == 200 and 'id="read-only"' in body(r)
    assert 'value="add"' not in body(r)
    assert 'id="content-nav"' in body(r)  # found from the content area, not 设置
    assert client.post(URL, {"action": "try", "text": "西湖区"}).status_code == 200
    assert client.post(URL, {"action": "add", "kind": "place", "text": "拱墅区"}).status_code == 403
    assert client.post(URL, {"action": "retire", "entry": e.pk}).status_code == 403
    assert (
        client.post(URL, {"action": "import", "kind": "place", "lines": "拱墅区"}).status_code
        == 403
    )
    assert list(ProofEntry.objects.values_list("text", "retired_at")) == [("西湖区", None)]
    client.force_login(reviewer)
    assert client.post(URL, {"action": "add", "kind": "place", "text": "拱墅区"}).status_code == 302
    assert ProofEntry.objects.filter(retired_at__isnull=True).count() == 2


def test_only_the_superuser_writes_the_installations_lists(
    client: Client, account: Account, account_admin: Any, django_user_model: Any
) -> None:
    shared = entry(None, Kind.PLACE, "钱塘江")
    client.force_login(account_admin)
    assert 'id="scope-place"' not in body(client.get(URL))
    r = client.post(
        URL, {"action": "add", "kind": "place", "text": "拱墅区", "scope": "installation"}
    )
    assert r.status_code == 403
    assert client.post(URL, {"action": "retire", "entry": shared.pk}).status_code == 403
    assert list(ProofEntry.objects.values_list("text", "retired_at")) == [("钱塘江", None)]
    root = django_user_model.objects.create_superuser("root", password=None)
    client.force_login(root)
    assert 'id="scope-place"' in body(client.get(URL))
    r = client.post(
        URL, {"action": "add", "kind": "place", "text": "拱墅区", "scope": "installation"}
    )
    assert r.status_code == 302
    assert ProofEntry.objects.get(text="拱墅区").account is None


def test_an_outsider_sees_and_changes_nothing_of_the_account(
    client: Client, account: Account, other_account: Account, outsider: Any
) -> None:
    e = entry(account, Kind.LEADER, "张三", "市长")
    Membership.objects.filter(user=outsider).delete()
    add_member(other_account, outsider, Membership.Role.ADMIN)  # an admin elsewhere
    client.force_login(outsider)
    r = client.get(URL)
    assert r.status_code == 200 and rows(r, "leader") == []  # their own account's page
    assert client.post(URL, {"action": "retire", "entry": e.pk}).status_code == 404
    client.post(URL, {"action": "add", "kind": "leader", "text": "王五", "extra": "县长"})
    e.refresh_from_db()
    assert e.retired_at is None
    assert ProofEntry.objects.get(text="王五").account == other_account  # never this account's
    assert list(ProofEntry.objects.filter(account=account).values_list("text", flat=True)) == [
        "张三"
    ]


def test_an_operator_of_another_account_only_is_refused(
    client: Client, account: Account, outsider: Any
) -> None:
    e = entry(account, Kind.PLACE, "西湖区")
    client.force_login(outsider)  # an operator of the other account: reads, cannot write
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"action": "retire", "entry": e.pk}).status_code == 404
    assert client.post(URL, {"action": "add", "kind": "place", "text": "拱墅区"}).status_code == 403
    assert list(ProofEntry.objects.values_list("text", "retired_at")) == [("西湖区", None)]


def test_a_person_of_no_account_gets_the_no_account_page(
    client: Client, account: Account, django_user_model: Any
) -> None:
    nobody = django_user_model.objects.create_user("nobody")
    client.force_login(nobody)
    r = client.get(URL)
    assert r.status_code == 200 and "<h1>校对词表</h1>" not in body(r)  # the no-account page


def test_anonymous_goes_to_the_login(client: Client) -> None:
    for r in (
        client.get(URL),
        client.post(URL, {"action": "add", "kind": "place", "text": "西湖区"}),
    ):
        assert r.status_code == 302 and "/login/" in r["Location"]
    assert not ProofEntry.objects.exists()


def test_the_page_costs_the_same_queries_for_few_entries_or_many(
    admin_client: Client, account: Account
) -> None:
    def count() -> int:
        ctx.forget()
        with CaptureQueriesContext(connection) as q:
            assert admin_client.get(URL).status_code == 200
        return len(q)

    entry(account, Kind.LEADER, "张三", "市长")
    count()
    few = count()
    for i in range(10):
        entry(account, Kind.PLACE, f"地名{i}")
        entry(None, Kind.AVOID, f"禁用{i}", note="理由")
    assert count() == few
