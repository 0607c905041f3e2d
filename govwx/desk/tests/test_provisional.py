"""Deadlines over the turn of 2026 into 2027 while 2027's holidays are not confirmed:
the case opens at once with provisional deadlines (weekends off, no holidays), and
confirming the year computes them again, on the record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from govwx.accounts.models import Account, AuditEvent
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent
from govwx.wechat.models import InboundMessage
from govwx.workcalendar.models import SpecialDay
from govwx.workcalendar.services import confirm_year, set_special_day

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
_ids = iter(range(1, 10**6))


def message(account: Account, text: str, openid: str) -> InboundMessage:
    now = datetime.now(UTC)
    n = next(_ids)
    return InboundMessage.objects.create(
        account=account, openid=openid, dedup_key=f"p:{n}", msg_type="text", msg_id=n,
        content=text, sent_at=now, received_at=now, handled_by="desk",
    )  # fmt: skip


def local_day(value: datetime) -> date:
    return value.astimezone(SH).date()


def test_the_turn_of_the_year_unconfirmed_then_confirmed(
    account: Account, account_admin: Any
) -> None:
    with time_machine.travel(datetime(2026, 12, 30, 10, tzinfo=SH), tick=False):
        consult = message(account, "请问元旦期间社保大厅开门吗", "oA")
        complaint = message(account, "投诉：小区供暖不热", "oB")
        assert services.take_in_pending() == (2, 0)
    # 2026-12-30 is a Wednesday. 3 working days on plain weeks: Thu 31, Fri 1 Jan (a
    # guess: 2027 is not confirmed), Mon 4 Jan; complaints 10: to Wed 13 January
    a = Case.objects.get(messages__inbound=consult)
    b = Case.objects.get(messages__inbound=complaint)
    assert (a.provisional_year, b.provisional_year) == (2027, 2027)
    assert local_day(a.first_response_due) == date(2026, 12, 31)
    assert local_day(a.resolve_due) == date(2027, 1, 4)
    assert local_day(b.resolve_due) == date(2027, 1, 13)
    opened = CaseEvent.objects.get(case=a, name="case.opened")
    assert opened.data["provisional_year"] == 2027

    # the State Council publishes 2027: 1–3 January off, Sunday 27 Dec 2026 is long past
    for day in (1, 2, 3):
        set_special_day(date(2027, 1, day), SpecialDay.Kind.HOLIDAY, "元旦")
    with time_machine.travel(datetime(2027, 1, 2, 9, tzinfo=SH), tick=False):
        confirm_year(2027, "国办发明电〔2026〕示例号", actor=account_admin)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.provisional_year, b.provisional_year) == (None, None)
    assert local_day(a.resolve_due) == date(2027, 1, 5)  # Thu 31, Mon 4, Tue 5
    assert local_day(b.resolve_due) == date(2027, 1, 14)
    recomputed = CaseEvent.objects.get(case=a, name="case.deadline_confirmed")
    assert recomputed.data["year"] == 2027 and recomputed.actor == account_admin
    assert recomputed.data["resolve_due"][0] != recomputed.data["resolve_due"][1]
    audit = AuditEvent.objects.get(name="desk.deadlines_recomputed")
    assert audit.data["cases"] == 2
    # the sweep sees the new values: nothing is due on 4 January any more
    with time_machine.travel(datetime(2027, 1, 4, 23, 59, 59, 999999, tzinfo=SH), tick=False):
        assert services.sweep()["breached"] == 0


def test_an_extension_into_an_unconfirmed_year_is_provisional_and_kept(
    account: Account, account_admin: Any
) -> None:
    with time_machine.travel(datetime(2026, 12, 10, 10, tzinfo=SH), tick=False):
        msg = message(account, "建议：增加公交线路", "oC")
        services.take_in_pending()
        case = Case.objects.get(messages__inbound=msg)
        assert case.case_type == "suggestion"
        # 15 working days from Thu 10 Dec: 31 Dec — still 2026, final
        assert local_day(case.resolve_due) == date(2026, 12, 31)
        assert case.provisional_year is None
        case = services.extend_case(
            case, 3, "需要现场勘查", revision=case.revision, actor=account_admin
        )
    assert case.provisional_year == 2027
    assert local_day(case.resolve_due) == date(2027, 1, 5)  # Fri 1, Mon 4, Tue 5 (a guess)
    assert case.deadline_basis["extensions"] == [3]
    set_special_day(date(2027, 1, 1), SpecialDay.Kind.HOLIDAY, "元旦")
    confirm_year(2027, "国办发明电〔2026〕示例号", actor=account_admin)
    case.refresh_from_db()
    assert case.provisional_year is None
    assert local_day(case.resolve_due) == date(2027, 1, 6)  # Mon 4, Tue 5, Wed 6


def test_a_failed_confirmation_changes_no_deadline(
    account: Account, account_admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(datetime(2026, 12, 30, 10, tzinfo=SH), tick=False):
        message(account, "咨询：明年的体检安排", "oD")
        services.take_in_pending()
    before = Case.objects.values_list("resolve_due", "provisional_year").get()
    with pytest.raises(ValidationError):
        confirm_year(2027, "   ", actor=account_admin)  # no source: refused
    assert Case.objects.values_list("resolve_due", "provisional_year").get() == before


def test_the_sweeps_warning_says_the_deadline_is_provisional(account: Account) -> None:
    from govwx.team.models import Alert

    with time_machine.travel(datetime(2026, 12, 30, 10, tzinfo=SH), tick=False):
        message(account, "请问元旦后哪天开始办理居住证", "oE")
        services.take_in_pending()
    with time_machine.travel(datetime(2027, 1, 4, 10, tzinfo=SH), tick=False):
        assert services.sweep()["warning"] == 1
    alert = Alert.objects.get(kind=Alert.Kind.WARNING)
    assert alert.text == "1 件诉求即将超时"
    assert "其中 1 件的截止时间为暂定（2027 年节假日安排尚未确认）" in alert.detail
