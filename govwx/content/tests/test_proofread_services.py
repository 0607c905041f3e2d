"""Proofreading's writes: the word lists (add, retire, paste-import: all or nothing),
dismissals remembered for the text they were made in, and the report's records kept one
row per object and finding. Bad input is refused in words and changes nothing; a person
without the permission changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from govwx.accounts.models import Account, AuditEvent
from govwx.content.models import Dismissal, FindingRecord, ProofEntry
from govwx.content.proofread import ERROR, VETO, WARNING, Finding
from govwx.content.proofread import services as svc
from govwx.content.proofread.context import context_for, forget
from govwx.content.proofread.services import EntryInput

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
Kind = ProofEntry.Kind


@pytest.fixture(autouse=True)
def _fresh_contexts() -> Any:
    forget()
    yield
    forget()


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", password=None)


def audits(prefix: str = "proofread.") -> list[str]:
    return list(
        AuditEvent.objects.filter(name__startswith=prefix)
        .order_by("pk")
        .values_list("name", flat=True)
    )


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> Any:
    e = exc.value
    return e.message_dict if hasattr(e, "error_dict") else e.messages


# ------------------------------------------------------------------ models


def test_one_current_entry_per_account_kind_and_text(account: Account) -> None:
    ProofEntry.objects.create(account=account, kind=Kind.AVOID, text="拍脑袋", note="口语")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProofEntry.objects.create(account=account, kind=Kind.AVOID, text="拍脑袋", note="再来")


def test_one_current_installation_entry_per_kind_and_text(db: Any) -> None:
    ProofEntry.objects.create(account=None, kind=Kind.PLACE, text="西湖区")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProofEntry.objects.create(account=None, kind=Kind.PLACE, text="西湖区")


def test_a_retired_entry_frees_its_text_and_the_same_text_may_be_another_kind(
    account: Account, other_account: Account
) -> None:
    from django.utils import timezone

    old = ProofEntry.objects.create(
        account=account, kind=Kind.PLACE, text="西湖区", retired_at=timezone.now()
    )
    again = ProofEntry.objects.create(account=account, kind=Kind.PLACE, text="西湖区")
    ProofEntry.objects.create(account=account, kind=Kind.FORMULATION, text="西湖区")
    ProofEntry.objects.create(account=other_account, kind=Kind.PLACE, text="西湖区")
    ProofEntry.objects.create(account=None, kind=Kind.PLACE, text="西湖区")
    assert old.pk != again.pk
    assert ProofEntry.objects.filter(text="西湖区").count() == 5


def test_one_dismissal_per_account_text_and_finding(account: Account) -> None:
    Dismissal.objects.create(account=account, rule="avoid:w:x", text_sha256="a" * 64,
                             found="x", reason="r")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Dismissal.objects.create(account=account, rule="avoid:w:x", text_sha256="a" * 64,
                                 found="x", reason="again")  # fmt: skip


# ------------------------------------------------------------------ add_entry


def test_an_admin_adds_a_leader_audited(account: Account, account_admin: Any) -> None:
    entry = svc.add_entry(
        account, EntryInput(Kind.LEADER, " 张  三 ", "副市长", "分管城建"), actor=account_admin
    )
    assert (entry.account, entry.kind, entry.text, entry.extra, entry.note) == (
        account, "leader", "张 三", "副市长", "分管城建")  # fmt: skip
    assert entry.created_by == account_admin and entry.retired_at is None
    event = AuditEvent.objects.get(name="proofread.entry_added")
    assert (event.account, event.actor) == (account, account_admin)
    assert event.data == {"entry": entry.pk, "kind": "leader", "text": "张 三",
                          "extra": "副市长", "note": "分管城建", "installation": False}  # fmt: skip


def test_a_reviewer_manages_the_lists_an_editor_does_not(
    account: Account, reviewer: Any, editor: Any
) -> None:
    svc.add_entry(account, EntryInput(Kind.PLACE, "西湖区"), actor=reviewer)
    with pytest.raises(PermissionDenied):
        svc.add_entry(account, EntryInput(Kind.PLACE, "拱墅区"), actor=editor)
    assert list(ProofEntry.objects.values_list("text", flat=True)) == ["西湖区"]
    assert audits() == ["proofread.entry_added"]


def test_an_outsider_adds_nothing(account: Account, outsider: Any) -> None:
    with pytest.raises(PermissionDenied):
        svc.add_entry(account, EntryInput(Kind.PLACE, "西湖区"), actor=outsider)
    assert not ProofEntry.objects.exists() and audits() == []


def test_only_the_superuser_writes_the_installation_lists(account_admin: Any, root: Any) -> None:
    with pytest.raises(PermissionDenied, match="只有超级管理员可以修改全平台词表"):
        svc.add_entry(None, EntryInput(Kind.FORMULATION, "人民代表大会制度"), actor=account_admin)
    assert not ProofEntry.objects.exists()
    entry = svc.add_entry(None, EntryInput(Kind.FORMULATION, "人民代表大会制度"), actor=root)
    assert entry.account is None
    event = AuditEvent.objects.get(name="proofread.entry_added")
    assert event.account is None and event.data["installation"] is True


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (EntryInput(Kind.AVOID, "拍脑袋", "科学决策", ""), {"note": ["禁用词须说明理由"]}),
        (EntryInput(Kind.AVOID, "   "), {"text": ["词语不能为空"], "note": ["禁用词须说明理由"]}),
        (EntryInput(Kind.PLACE, ""), {"text": ["词语不能为空"]}),
        (EntryInput(Kind.PLACE, "杭"), {"text": ["地名至少 2 个字：更短的词会在太多地方出现"]}),
        (EntryInput(Kind.PLACE, "长" * 101), {"text": ["词语最多 100 个字"]}),
        (EntryInput(Kind.MISUSED, "既使"), {"extra": ["请填写正确写法"]}),
        (EntryInput(Kind.MISUSED, "既使", "既使"), {"extra": ["正确写法与易错写法相同"]}),
        (EntryInput(Kind.LEADER, "张三"), {"extra": ["请填写领导的职务"]}),
        (EntryInput(Kind.PUBLIC_NUMBER, "热线12345"),
         {"text": ["「热线12345」不是电话号码或电子邮箱：号码只能有数字和连字符，至少 5 位"]}),
        (EntryInput(Kind.PUBLIC_NUMBER, "12"),
         {"text": ["「12」不是电话号码或电子邮箱：号码只能有数字和连字符，至少 5 位"]}),
        (EntryInput("slogan", "撸起袖子"), {"kind": ["未知的词条类别：slogan"]}),
        (EntryInput(Kind.PLACE, "西湖区", "", "说" * 201), {"note": ["说明最多 200 个字"]}),
    ],
)  # fmt: skip
def test_bad_input_is_refused_in_words_and_nothing_is_added(
    account: Account, account_admin: Any, data: EntryInput, errors: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.add_entry(account, data, actor=account_admin)
    assert messages(exc) == errors
    assert not ProofEntry.objects.exists() and audits() == []


def test_a_duplicate_is_refused_and_so_is_what_the_installation_has(
    account: Account, account_admin: Any, root: Any
) -> None:
    svc.add_entry(account, EntryInput(Kind.AVOID, "拍脑袋", "", "决策要科学"), actor=account_admin)
    svc.add_entry(None, EntryInput(Kind.FORMULATION, "人民代表大会制度"), actor=root)
    with pytest.raises(ValidationError) as exc:
        svc.add_entry(account, EntryInput(Kind.AVOID, "拍脑袋", "", "又一次"), actor=account_admin)
    assert messages(exc) == {"text": ["禁用词「拍脑袋」已在词表中"]}
    with pytest.raises(ValidationError) as exc:
        svc.add_entry(
            account, EntryInput(Kind.FORMULATION, "人民代表大会制度"), actor=account_admin
        )
    assert messages(exc) == {"text": ["全平台词表已有规范提法「人民代表大会制度」"]}
    assert ProofEntry.objects.count() == 2


def test_a_number_is_kept_without_spaces_and_extra_only_where_the_kind_has_one(
    account: Account, account_admin: Any
) -> None:
    number = svc.add_entry(
        account, EntryInput(Kind.PUBLIC_NUMBER, "0571 8765 4321", "市长热线"), actor=account_admin
    )
    place = svc.add_entry(account, EntryInput(Kind.PLACE, "西湖区", "忽略我"), actor=account_admin)
    assert (number.text, number.extra) == ("057187654321", "市长热线")
    assert (place.text, place.extra) == ("西湖区", "")


# ------------------------------------------------------------------ retire_entry


def test_retiring_keeps_the_entry_hidden_and_audited(account: Account, reviewer: Any) -> None:
    entry = svc.add_entry(account, EntryInput(Kind.PLACE, "西湖区"), actor=reviewer)
    assert context_for(account).places[-1] == "西湖区"
    with time_machine.travel("2026-05-04 10:00 +0800", tick=False):
        svc.retire_entry(entry, actor=reviewer)
    entry.refresh_from_db()
    assert entry.retired_at is not None
    assert entry.retired_at.astimezone(SH).hour == 10
    assert "西湖区" not in context_for(account).places
    assert audits() == ["proofread.entry_added", "proofread.entry_retired"]
    with pytest.raises(ValidationError) as exc:
        svc.retire_entry(entry, actor=reviewer)
    assert messages(exc) == ["「西湖区」已停用"]
    assert audits() == ["proofread.entry_added", "proofread.entry_retired"]


def test_an_editor_and_an_admin_of_the_account_do_not_retire_the_installations(
    account: Account, account_admin: Any, editor: Any, root: Any
) -> None:
    own = svc.add_entry(account, EntryInput(Kind.PLACE, "西湖区"), actor=account_admin)
    shared = svc.add_entry(None, EntryInput(Kind.PLACE, "钱塘区"), actor=root)
    with pytest.raises(PermissionDenied):
        svc.retire_entry(own, actor=editor)
    with pytest.raises(PermissionDenied):
        svc.retire_entry(shared, actor=account_admin)
    assert ProofEntry.objects.filter(retired_at__isnull=True).count() == 2
    svc.retire_entry(shared, actor=root)
    assert list(
        ProofEntry.objects.filter(retired_at__isnull=True).values_list("text", flat=True)
    ) == ["西湖区"]


# ------------------------------------------------------------------ import_entries


def test_an_import_adds_every_line(account: Account, reviewer: Any) -> None:
    made = svc.import_entries(
        account, Kind.MISUSED, "既使|即使|连词\n\n 按装 | 安装 \n渡过难关｜度过难关", actor=reviewer
    )
    assert [(e.text, e.extra, e.note) for e in made] == [
        ("既使", "即使", "连词"), ("按装", "安装", ""), ("渡过难关", "度过难关", "")]  # fmt: skip
    assert all(e.pk for e in made)
    event = AuditEvent.objects.get(name="proofread.entries_imported")
    assert event.data == {"kind": "misused", "count": 3, "texts": ["既使", "按装", "渡过难关"],
                          "installation": False}  # fmt: skip
    assert context_for(account).misused == (
        ("按装", "安装", ""), ("既使", "即使", "连词"), ("渡过难关", "度过难关", ""))  # fmt: skip


def test_an_import_with_bad_lines_names_each_and_adds_nothing(
    account: Account, reviewer: Any
) -> None:
    svc.add_entry(account, EntryInput(Kind.AVOID, "拍脑袋", "", "决策要科学"), actor=reviewer)
    pasted = "\n".join([
        "拍胸脯|保证|口语",  # 1: fine
        "拍脑袋||又一次",  # 2: in the list already
        "一刀切|",  # 3: no reason
        "拍胸脯||重复",  # 4: twice in the paste
        "a|b|c|d",  # 5: four columns
        "",
        "走过场||形式主义",  # 7: fine
    ])  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        svc.import_entries(account, Kind.AVOID, pasted, actor=reviewer)
    assert messages(exc) == [
        "第 3 行：禁用词须说明理由",
        "第 4 行：「拍胸脯」与第 1 行重复",
        "第 5 行：多于三栏（词语|建议改为|说明）",
        "第 2 行：禁用词「拍脑袋」已在词表中",
    ]
    assert list(ProofEntry.objects.values_list("text", flat=True)) == ["拍脑袋"]
    assert audits() == ["proofread.entry_added"]


def test_an_import_of_a_kind_without_a_second_column(account: Account, reviewer: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.import_entries(account, Kind.PLACE, "西湖区|杭州", actor=reviewer)
    assert messages(exc) == ["第 1 行：地名没有第二栏（词语||说明）"]
    made = svc.import_entries(account, Kind.PLACE, "西湖区||杭州的区\n拱墅区", actor=reviewer)
    assert [(e.text, e.note) for e in made] == [("西湖区", "杭州的区"), ("拱墅区", "")]


def test_an_empty_import_or_an_unknown_kind_is_refused(account: Account, reviewer: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.import_entries(account, Kind.PLACE, " \n\n", actor=reviewer)
    assert messages(exc) == ["没有可导入的内容：每行一条，词语||说明"]
    with pytest.raises(ValidationError) as exc:
        svc.import_entries(account, "slogan", "撸起袖子", actor=reviewer)
    assert messages(exc) == ["未知的词条类别：slogan"]
    assert not ProofEntry.objects.exists() and audits() == []


def test_an_import_needs_the_permission(account: Account, editor: Any, outsider: Any) -> None:
    for person in (editor, outsider):
        with pytest.raises(PermissionDenied):
            svc.import_entries(account, Kind.PLACE, "西湖区", actor=person)
    assert not ProofEntry.objects.exists() and audits() == []


def test_the_superuser_imports_the_installations_list(root: Any, account: Account) -> None:
    made = svc.import_entries(None, Kind.FORMULATION, "中国特色社会主义||", actor=root)
    assert [(e.account_id, e.text) for e in made] == [(None, "中国特色社会主义")]
    assert context_for(account).formulations[0].standard == "中国特色社会主义"


# ------------------------------------------------------------------ dismissals

TEXT = "这件事不能拍脑袋决定。"


def avoid_finding(text: str = TEXT, severity: str = ERROR) -> Finding:
    start = text.index("拍脑袋")
    return Finding(start, start + 3, "拍脑袋", "avoid", severity, "禁用词：拍脑袋", "科学决策",
                   "avoid.word")  # fmt: skip


def test_a_dismissal_holds_for_the_same_text_and_finding(account: Account, reviewer: Any) -> None:
    f = avoid_finding()
    assert not svc.is_dismissed(account, f, TEXT)
    d = svc.dismiss_finding(account, f, TEXT, "  引用群众原话 ", actor=reviewer)
    assert (d.rule, d.found, d.reason, d.by) == ("avoid:avoid.word:拍脑袋", "拍脑袋",
                                                 "引用群众原话", reviewer)  # fmt: skip
    assert svc.is_dismissed(account, f, TEXT)
    changed = "昨天" + TEXT
    assert not svc.is_dismissed(account, avoid_finding(changed), changed)
    event = AuditEvent.objects.get(name="proofread.dismissed")
    assert event.actor == reviewer
    assert event.data == {"rule": "avoid:avoid.word:拍脑袋", "found": "拍脑袋",
                          "severity": "error", "reason": "引用群众原话",
                          "text_sha256": svc.sha256(TEXT)}  # fmt: skip
    again = svc.dismiss_finding(account, f, TEXT, "再说一次", actor=reviewer)
    assert again.pk == d.pk and audits() == ["proofread.dismissed"]


def test_a_dismissal_of_one_account_is_not_anothers(
    account: Account, other_account: Account, reviewer: Any
) -> None:
    svc.dismiss_finding(account, avoid_finding(), TEXT, "引用原话", actor=reviewer)
    assert not svc.is_dismissed(other_account, avoid_finding(), TEXT)


@pytest.mark.parametrize(
    ("reason", "severity", "text", "error"),
    [
        ("   ", ERROR, TEXT, {"reason": ["请说明忽略的理由"]}),
        ("理" * 501, ERROR, TEXT, {"reason": ["理由最多 500 个字"]}),
        ("引用原话", VETO, TEXT, ["否决项不能忽略，须修改文字：「拍脑袋」"]),
        ("引用原话", ERROR, "这件事不能乱拍板决定。", ["这条提示不属于这段文字（文字已修改？）"]),
    ],
)
def test_a_bad_dismissal_is_refused_and_nothing_is_kept(
    account: Account, reviewer: Any, reason: str, severity: str, text: str, error: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.dismiss_finding(account, avoid_finding(severity=severity), text, reason, actor=reviewer)
    assert messages(exc) == error
    assert not Dismissal.objects.exists() and audits() == []


def test_only_reviewers_and_admins_dismiss(
    account: Account, editor: Any, operator: Any, outsider: Any, account_admin: Any
) -> None:
    for person in (editor, operator, outsider):
        with pytest.raises(PermissionDenied):
            svc.dismiss_finding(account, avoid_finding(), TEXT, "引用原话", actor=person)
    assert not Dismissal.objects.exists()
    svc.dismiss_finding(account, avoid_finding(), TEXT, "引用原话", actor=account_admin)
    assert Dismissal.objects.count() == 1


def test_a_warning_may_be_dismissed(account: Account, reviewer: Any) -> None:
    f = avoid_finding(severity=WARNING)
    svc.dismiss_finding(account, f, TEXT, "语境合适", actor=reviewer)
    assert svc.is_dismissed(account, f, TEXT)


# ------------------------------------------------------------------ record_findings


def test_record_findings_keeps_one_row_per_object_and_finding(
    account: Account, reviewer: Any
) -> None:
    other = Finding(0, 2, "这件", "tone", WARNING, "口语", rule="tone.spoken")
    with time_machine.travel("2026-03-31 23:30 +0800", tick=False):
        rows = svc.record_findings(account, "reply_rule", 7, [avoid_finding(), other])
    assert sorted((r.family, r.rule, r.found, r.severity, r.month, r.dismissed, r.published)
                  for r in rows) == [
        ("avoid", "avoid.word", "拍脑袋", "error", date(2026, 3, 1), False, False),
        ("tone", "tone.spoken", "这件", "warning", date(2026, 3, 1), False, False),
    ]  # fmt: skip
    svc.dismiss_finding(account, avoid_finding(), TEXT, "引用原话", actor=reviewer)
    with time_machine.travel("2026-04-02 09:00 +0800", tick=False):
        again = svc.record_findings(account, "reply_rule", "7", [avoid_finding(), avoid_finding()],
                                    published=True, text=TEXT)  # fmt: skip
    assert FindingRecord.objects.count() == 2
    (row,) = again
    assert (row.month, row.dismissed, row.published) == (date(2026, 3, 1), True, True)
    # a later save without publication does not take publication back
    svc.record_findings(account, "reply_rule", 7, [avoid_finding()])
    row.refresh_from_db()
    assert (row.dismissed, row.published) == (True, True)
    # another object, another place: rows of their own
    svc.record_findings(account, "menu", 7, [avoid_finding()])
    svc.record_findings(account, "reply_rule", 8, [avoid_finding()])
    assert FindingRecord.objects.count() == 4


def test_record_findings_refuses_an_unknown_place_and_ignores_nothing_found(
    account: Account,
) -> None:
    with pytest.raises(ValueError, match="unknown place 'sms'"):
        svc.record_findings(account, "sms", 1, [avoid_finding()])
    assert svc.record_findings(account, "article", 1, []) == []
    assert not FindingRecord.objects.exists()
