"""Answering a case through the real customer-service API of the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import CaseEvent, CaseMessage, Status
from govwx.wechat.client import clear_local_tokens
from govwx.wechat.models import Follower, InboundMessage, OutboundMessage
from govwx.wechat.services import release_held
from govwx.wechat.tests.test_client import Sandbox
from govwx.workcalendar.services import seed_from_package

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(live_server: Any, settings: Any, account: Account) -> Any:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    cache.clear()
    clear_local_tokens()
    # transactional tests empty the tables, the migration's calendar seed included
    seed_from_package()
    box = Sandbox(live_server.url + "/sandbox")
    box.register(account)
    yield box
    cache.clear()
    clear_local_tokens()


def case_from(account: Account, openid: str, text: str) -> Any:
    now = datetime.now(UTC)
    msg = InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key=f"m:{openid}:{text}",
        msg_type="text",
        content=text,
        sent_at=now,
        received_at=now,
        handled_by="desk",
    )
    Follower.objects.update_or_create(
        account=account,
        openid=openid,
        defaults={"subscribed": True, "first_seen_at": now, "last_interaction_at": now},
    )
    return services.intake(msg.pk)


def conversation(sandbox: Sandbox, account: Account, openid: str) -> str:
    return str(
        sandbox.call("GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation")
    )


def test_a_reply_reaches_the_citizen_and_answers_the_case(
    sandbox: Sandbox, account: Account, operator: Any
) -> None:
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, "社保卡丢了怎么补办")
    message = services.reply_to_case(
        case, "请携带身份证到任一社保网点补办，当场取卡。", revision=case.revision, actor=operator
    )
    case.refresh_from_db()
    assert case.status == Status.ANSWERED and case.first_responded_at and case.answered_at
    assert message.outbound.status == OutboundMessage.Status.SENT
    assert "当场取卡" in conversation(sandbox, account, openid)
    assert list(CaseEvent.objects.filter(case=case).values_list("name", flat=True)) == [
        "case.opened",
        "case.replied",
    ]


def test_a_reply_to_a_closed_window_is_kept_and_goes_out_later(
    sandbox: Sandbox, account: Account, operator: Any
) -> None:
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, "路灯坏了")
    later = timezone.now() + timedelta(hours=50)
    with time_machine.travel(later):
        msg = services.reply_to_case(
            case, "已通知城管维修。", revision=case.revision, actor=operator
        )
        msg.outbound.refresh_from_db()
        # never silently lost: held, with WeChat's reason, shown with the case
        assert (msg.outbound.status, msg.outbound.error_code) == ("held", 45015)
        assert CaseMessage.objects.get(pk=msg.pk).outbound.status == "held"
    with time_machine.travel(later + timedelta(hours=2)):
        sandbox.write(account, openid, "修了吗？")
        Follower.objects.filter(account=account, openid=openid).update(
            last_interaction_at=timezone.now()
        )
        assert release_held() == 1
    msg.outbound.refresh_from_db()
    assert msg.outbound.status == "sent"
    assert "已通知城管维修" in conversation(sandbox, account, openid)


def test_bad_replies_and_strangers_change_nothing(
    sandbox: Sandbox, account: Account, operator: Any, django_user_model: Any
) -> None:
    case = case_from(account, "oNobody", "咨询")
    org = Organisation.objects.create(name="市政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    liaison = django_user_model.objects.create_user("liaison-x")
    add_member(
        account,
        liaison,
        Membership.Role.LIAISON,
        department=Department.objects.create(organisation=org, name="市城管局"),
    )
    for text in ("   ", "长" * 700):
        with pytest.raises(ValidationError):
            services.reply_to_case(case, text, revision=case.revision, actor=operator)
    with pytest.raises(PermissionDenied):  # a liaison of a department not on the case
        services.reply_to_case(case, "答复", revision=case.revision, actor=liaison)
    with pytest.raises(services.Conflict):
        services.reply_to_case(case, "答复", revision=case.revision - 1, actor=operator)
    assert not OutboundMessage.objects.exists()
    assert CaseMessage.objects.filter(direction="out").count() == 0
    case.refresh_from_db()
    assert case.status == Status.NEW


def test_resolve_and_notes(sandbox: Sandbox, account: Account, operator: Any) -> None:
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, "咨询办事时间")
    services.add_note(case, "已电话联系群众", actor=operator)
    with pytest.raises(ValidationError):
        services.resolve_case(case, revision=case.revision, actor=operator)  # not answered
    services.reply_to_case(case, "工作日 9:00—17:00。", revision=case.revision, actor=operator)
    case.refresh_from_db()
    case = services.resolve_case(case, revision=case.revision, actor=operator)
    assert case.status == Status.RESOLVED and case.resolved_at
    assert list(case.messages.values_list("direction", flat=True)) == ["in", "note", "out"]


def test_a_held_reply_is_announced_by_template_message_once(
    sandbox: Sandbox, account: Account, operator: Any, client: Any, settings: Any
) -> None:
    from govwx.desk.services import notify_held_replies, rating_url

    Account.objects.filter(pk=account.pk).update(notice_template_id="TPL_CASE_ANSWERED")
    account.refresh_from_db()
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, "路灯坏了好几天")
    with time_machine.travel(timezone.now() + timedelta(hours=50)):
        case.refresh_from_db()
        services.reply_to_case(case, "已修复。", revision=case.revision, actor=operator)
        assert notify_held_replies() == 1
        assert notify_held_replies() == 0  # once
    log = sandbox.call("GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation")
    templates = [e for e in log["entries"] if e["kind"] == "template"]
    assert len(templates) == 1
    payload = templates[0]["payload"]
    assert payload["template_id"] == "TPL_CASE_ANSWERED" and "/desk/rate/" in payload["url"]
    assert payload["data"]["thing1"] == "路灯坏了好几天"
    assert CaseEvent.objects.filter(case=case, name="case.notified").count() == 1
    # the link shows the reply that could not be sent
    page = client.get(rating_url(case).removeprefix(settings.GOVWX_PUBLIC_URL))
    assert "已修复。" in page.content.decode()


def test_the_sandbox_refuses_bad_template_messages(sandbox: Sandbox, account: Account) -> None:
    from govwx.wechat.client import WeChatClient
    from govwx.wechat.errors import WeChatAPIError

    openid = sandbox.follower_writing(account)
    client = WeChatClient(account)
    for args, code in (
        (("", {"thing1": "x"}), 40037),
        (("TPL", {}), 47001),
        (("TPL", {"thing1": "超" * 21}), 47001),
    ):
        with pytest.raises(WeChatAPIError) as exc:
            client.send_template_message(openid, *args)
        assert exc.value.errcode == code
    with pytest.raises(WeChatAPIError) as exc:
        client.send_template_message("oUnknown", "TPL", {"thing1": "x"})
    assert exc.value.errcode == 40003
    sandbox.call("POST", f"/api/accounts/{account.appid}/followers/{openid}/unfollow", {})
    with pytest.raises(WeChatAPIError) as exc:
        client.send_template_message(openid, "TPL", {"thing1": "x"})
    assert exc.value.errcode == 43004


def test_ask_the_citizen_then_resolve_rate_and_close(
    sandbox: Sandbox, account: Account, operator: Any
) -> None:
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, "我的社保断了")
    services.reply_to_case(
        case, "请提供您的参保地和断缴月份。", revision=case.revision, actor=operator, ask=True
    )
    case.refresh_from_db()
    assert case.status == Status.WAITING and case.first_responded_at and not case.answered_at
    assert "/desk/rate/" not in conversation(sandbox, account, openid)  # no rating yet
    # the citizen answers: the case is back in progress
    now = timezone.now()
    more = InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key="m:more",
        msg_type="text",
        content="参保地在江北区，3月断缴",
        sent_at=now,
        received_at=now,
        handled_by="desk",
    )
    assert services.intake(more.pk) == case
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    services.reply_to_case(case, "已为您办理补缴。", revision=case.revision, actor=operator)
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        services.close_case(case, revision=case.revision, actor=operator)  # not resolved yet
    case = services.resolve_case(case, revision=case.revision, actor=operator)
    from govwx.desk.services import rate_case, rating_url

    rate_case(rating_url(case).rstrip("/").rsplit("/", 1)[-1], "satisfied")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.closed_at
    assert list(CaseEvent.objects.filter(case=case).values_list("name", flat=True))[-3:] == [
        "case.resolved",
        "case.rated",
        "case.closed",
    ]
