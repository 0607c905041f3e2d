"""From the callback to a case: the pipeline marks what no rule answers, the desk's loop
takes it in from the stored rows."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.desk.models import Case, CaseMessage, IntakeCursor, IntakeFailure
from govwx.desk.services import take_in_pending
from govwx.inbox.tests.wxpeer import Peer, event_xml, text_xml
from govwx.replies.models import Reply
from govwx.replies.services import (
    KeywordInput,
    ReplyInput,
    RuleInput,
    create_rule,
    set_trigger_replies,
)
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_what_no_rule_answers_goes_to_the_desk_acknowledged(client: Any, account: Account) -> None:
    create_rule(
        account,
        RuleInput("社保", [KeywordInput("社保")], [ReplyInput("text", {"content": "社保答复"})]),
    )
    set_trigger_replies(
        account, Reply.Trigger.DEFAULT, [ReplyInput("text", {"content": "已收到，工作日内答复"})]
    )
    peer = Peer(client)
    assert peer.reply(peer.post(text_xml("社保", msg_id=1)))["Content"] == "社保答复"
    ack = peer.reply(peer.post(text_xml("小区门口的井盖丢了", msg_id=2)))
    assert ack["Content"] == "已收到，工作日内答复"
    peer.post(event_xml("subscribe"))
    handled = dict(InboundMessage.objects.values_list("content", "handled_by"))
    assert handled == {"社保": "rule", "小区门口的井盖丢了": "desk", "": "none"}
    # nothing is a case until the desk's loop runs; then exactly one, and again none
    assert not Case.objects.exists()
    assert take_in_pending() == (1, 0)
    assert take_in_pending() == (0, 0)
    case = Case.objects.get()
    assert case.subject == "小区门口的井盖丢了"
    # the cursor moves past it once it is settled (at once on SQLite; on PostgreSQL,
    # where a lower id may commit after a higher one, after SETTLE)
    with time_machine.travel(timezone.now() + timedelta(seconds=11), tick=False):
        assert take_in_pending() == (0, 0)
    assert (
        IntakeCursor.objects.get().last_inbound_id
        == InboundMessage.objects.get(content="小区门口的井盖丢了").pk
    )


def test_retries_of_the_callback_never_open_two_cases(client: Any, account: Account) -> None:
    peer = Peer(client)
    xml = text_xml("噪音扰民，晚上十二点还在施工", msg_id=77)
    for nonce in ("a", "b", "c"):
        peer.post(xml, nonce=nonce)
    peer.post(text_xml("还在吵", msg_id=78))
    take_in_pending()
    take_in_pending()
    assert Case.objects.count() == 1
    assert CaseMessage.objects.count() == 2


def test_a_failure_is_recorded_retried_and_never_blocks_the_rest(
    client: Any, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govwx.desk import services

    peer = Peer(client)
    peer.post(text_xml("第一位市民的问题", msg_id=1, openid="oA"))
    peer.post(text_xml("第二位市民的问题", msg_id=2, openid="oB"))
    real = services._Batch.new_case

    def broken(self: Any, msg: Any, text: str, at: Any) -> Any:
        if text.startswith("第一位"):
            raise RuntimeError("路由规则读取失败")
        return real(self, msg, text, at)

    monkeypatch.setattr(services._Batch, "new_case", broken)
    # the batch fails as a whole, then goes one by one: the bad one is recorded, the
    # other taken in
    assert take_in_pending() == (1, 1)
    failure = IntakeFailure.objects.get()
    assert "路由规则读取失败" in failure.error
    assert Case.objects.get().subject == "第二位市民的问题"
    # nothing new, and the failure is not retried before its minute
    assert take_in_pending() == (0, 0)
    monkeypatch.setattr(services._Batch, "new_case", real)
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        assert take_in_pending() == (1, 0)
        assert take_in_pending() == (0, 0)
    assert Case.objects.count() == 2 and not IntakeFailure.objects.exists()
    last = InboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert IntakeCursor.objects.get().last_inbound_id == last


def test_a_year_not_confirmed_never_holds_a_message(client: Any, account: Account) -> None:
    """30 December 2026, with 2027's holidays not published yet: the case opens at once
    with provisional deadlines naming the year."""
    with time_machine.travel(datetime(2026, 12, 30, 10, tzinfo=SH), tick=False):
        Peer(client).post(text_xml("请问元旦期间社保大厅开门吗", msg_id=9))
        assert take_in_pending() == (1, 0)
    case = Case.objects.get()
    assert case.provisional_year == 2027
    assert not IntakeFailure.objects.exists()


def test_the_command_runs_one_pass(client: Any, account: Account) -> None:
    Peer(client).post(text_xml("咨询", msg_id=5))
    out = io.StringIO()
    call_command("desk", "run", "--once", stdout=out)
    assert "taken in 1" in out.getvalue()
    assert Case.objects.count() == 1


def test_a_handoff_rule_replies_and_opens_a_case(client: Any, account: Account) -> None:
    from govwx.replies.services import export_ruleset

    create_rule(
        account,
        RuleInput(
            "投诉",
            [KeywordInput("投诉")],
            [ReplyInput("text", {"content": "投诉已受理"})],
            handoff=True,
        ),
    )
    peer = Peer(client)
    assert peer.reply(peer.post(text_xml("我要投诉噪音", msg_id=9)))["Content"] == "投诉已受理"
    row = InboundMessage.objects.get(msg_id=9)
    assert (row.handled_by, row.rule_id is not None) == ("desk", True)
    assert take_in_pending() == (1, 0)
    assert Case.objects.get().case_type == "complaint"
    assert export_ruleset(account)["rules"][0]["handoff"] is True


def test_a_handoff_menu_button_opens_a_case(client: Any, account: Account) -> None:
    from govwx.replies.services import export_ruleset, import_ruleset

    import_ruleset(
        account,
        {
            "menu": {"MENU_COMPLAINT": "请留言描述问题"},
            "menu_handoff": ["MENU_COMPLAINT"],
            "rules": [],
        },
    )
    peer = Peer(client)
    reply = peer.reply(peer.post(event_xml("CLICK", key="MENU_COMPLAINT")))
    assert reply["Content"] == "请留言描述问题"
    peer.post(event_xml("CLICK", key="MENU_OTHER", create_time=1))
    assert take_in_pending() == (1, 0)
    assert Case.objects.get().subject == "[菜单：MENU_COMPLAINT]"
    assert export_ruleset(account)["menu_handoff"] == ["MENU_COMPLAINT"]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        import_ruleset(account, {"menu_handoff": "MENU_COMPLAINT", "rules": []})
    assert export_ruleset(account)["menu_handoff"] == ["MENU_COMPLAINT"]


def test_the_cursor_never_passes_a_message_stored_between_its_two_reads(
    client: Any, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement sees its own snapshot: a message stored after the cursor read how
    far it may go must still be found by the next pass."""
    from django.db.models.query import QuerySet

    from govwx.desk import services

    peer = Peer(client)
    peer.post(text_xml("第一条", msg_id=1, openid="oA"))
    assert take_in_pending() == (1, 0)  # nothing waits now
    first = QuerySet.first
    stored: list[int] = []

    def first_then_store(self: QuerySet[Any]) -> Any:
        found = first(self)
        if self.model is InboundMessage and not stored:  # the cursor's first read
            stored.append(1)
            # received a moment ago, its INSERT late behind the write lock
            at = timezone.now() - timedelta(seconds=1)
            InboundMessage.objects.create(
                account=account, openid="oC", dedup_key="late", msg_type="text",
                content="读完之后才存下的一条", sent_at=at, received_at=at, handled_by="desk",
            )  # fmt: skip
        return found

    monkeypatch.setattr(QuerySet, "first", first_then_store)
    services._advance_cursor(IntakeCursor.objects.get().last_inbound_id)
    monkeypatch.setattr(QuerySet, "first", first)
    late = InboundMessage.objects.get(content="读完之后才存下的一条")
    assert IntakeCursor.objects.get().last_inbound_id < late.pk
    assert take_in_pending() == (1, 0)
    assert CaseMessage.objects.filter(inbound=late).exists()


def test_a_case_closed_while_the_batch_was_prepared_gives_way_to_a_new_one(
    client: Any, account: Account
) -> None:
    """The batch prepares new cases only for the followers who had no open case when it
    was read; a follower whose case was closed before the write lock was taken still
    gets a new case, named by what they wrote."""
    from govwx.desk import services

    peer = Peer(client)
    peer.post(text_xml("路灯不亮", msg_id=1))
    assert take_in_pending() == (1, 0)
    first = Case.objects.get()
    peer.post(text_xml("小区门口的井盖丢了", msg_id=2))
    pending = services._pending(0, 10)
    follower = (pending[0].account_id, pending[0].openid)
    batch = services._Batch(pending, open_before={follower})  # read while the case was open
    assert follower not in batch.new
    Case.objects.filter(pk=first.pk).update(status="closed")  # closed meanwhile
    with services.serialized_writes(services.connection), services.transaction.atomic():
        [case_id] = services._take_in(batch)
    case = Case.objects.get(pk=case_id)
    assert case.pk != first.pk and case.subject == "小区门口的井盖丢了"
    assert case.events.filter(name="case.opened").count() == 1
    assert list(case.messages.values_list("text", flat=True)) == ["小区门口的井盖丢了"]


def test_the_open_case_lookup_reads_the_followers_cases_only(account: Account) -> None:
    """Intake looks up each batch's followers' open cases by (account, openid): an index,
    not a scan of every case the account ever had (SQLite cannot use the partial unique
    index for statuses given as parameters). The plan of the statement intake runs."""
    from django.db import connection

    from govwx.desk import services

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's plan depends on its statistics")
    statement = services._open_cases_sql().format(
        accounts="%s", openids="%s, %s", statuses=", ".join(["%s"] * len(services.OPEN_STATUSES)),
        lock="",
    )  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            "EXPLAIN QUERY PLAN " + statement,
            [account.pk, "o1", "o2", *[str(s) for s in services.OPEN_STATUSES]],
        )
        plan = " ".join(str(row[-1]) for row in cur.fetchall())
    assert "USING INDEX case_follower (account_id=? AND openid=?)" in plan, plan
    # and what it reads is the followers' open cases, nothing else
    mine = services.intake(
        InboundMessage.objects.create(
            account=account, openid="o1", dedup_key="plan:1", msg_type="text", msg_id=1,
            sent_at=timezone.now(), received_at=timezone.now(), handled_by="desk",
            content="路灯不亮", payload={},
        ).pk
    )  # fmt: skip
    rows = services._open_cases([(account.pk, "o1"), (account.pk, "o2")], lock=False)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(mine.pk, account.pk, "o1", "new")]
    Case.objects.filter(pk=mine.pk).update(status="closed")
    assert services._open_cases([(account.pk, "o1")], lock=True) == []
