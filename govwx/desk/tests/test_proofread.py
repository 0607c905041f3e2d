"""Every text the desk sends a citizen is proofread first (`lib.textcheck`): a reply
with someone's ID or phone number is stopped with the reason on the case page — nothing
stored, nothing sent —, a reply with an error goes once its sender has seen it
(「仍然发送」), a public hotline goes through; a template notice masks personal data in
the citizen's own words; canned replies are checked when saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from govwx.accounts.models import Account, AuditEvent
from govwx.content.models import Dismissal, ProofEntry
from govwx.content.proofread import context as proofread_context
from govwx.content.proofread.services import EntryInput, add_entry
from govwx.desk import services
from govwx.desk.models import CannedReply, Case, CaseEvent, CaseMessage, Status
from govwx.desk.settings_services import CannedInput, add_canned_reply
from govwx.lib import textcheck
from govwx.wechat.client import clear_local_tokens
from govwx.wechat.models import Follower, InboundMessage, OutboundMessage
from govwx.wechat.tests.test_client import Sandbox
from govwx.workcalendar.services import seed_from_package

ID = "11010519491231002X"
MOBILE = "13812345678"
HOTLINE = "0571-87654321"


@pytest.fixture(autouse=True)
def fresh_context() -> Any:
    proofread_context.forget()
    yield
    proofread_context.forget()


def case_from(account: Account, openid: str, text: str) -> Case:
    now = datetime.now(UTC)
    msg = InboundMessage.objects.create(
        account=account, openid=openid, dedup_key=f"m:{openid}:{text}", msg_type="text",
        content=text, sent_at=now, received_at=now, handled_by="desk",
    )  # fmt: skip
    Follower.objects.update_or_create(
        account=account, openid=openid,
        defaults={"subscribed": True, "first_seen_at": now, "last_interaction_at": now},
    )  # fmt: skip
    return services.intake(msg.pk)


def state(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.status,
        case.revision,
        case.first_responded_at,
        list(CaseEvent.objects.filter(case=case).values_list("name", flat=True)),
        CaseMessage.objects.filter(case=case, direction=CaseMessage.Direction.OUT).count(),
        OutboundMessage.objects.count(),
    )


# ------------------------------------------------------------------ through the sandbox


@pytest.fixture
def sandbox(live_server: Any, settings: Any, account: Account) -> Any:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    cache.clear()
    clear_local_tokens()
    seed_from_package()  # transactional tests empty the tables, the calendar's too
    box = Sandbox(live_server.url + "/sandbox")
    box.register(account)
    yield box
    cache.clear()
    clear_local_tokens()


def conversation(sandbox: Sandbox, account: Account, openid: str) -> list[dict[str, Any]]:
    log = sandbox.call("GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation")
    return [e for e in log["entries"] if e["kind"] in ("custom", "template")]


@pytest.mark.django_db(transaction=True)
def test_a_reply_with_an_id_number_is_stopped_and_nothing_reaches_the_citizen(
    sandbox: Sandbox, account: Account, operator: Any
) -> None:
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, "社保卡丢了怎么补办")
    before = state(case)
    with pytest.raises(textcheck.TextRefused) as exc:
        services.reply_to_case(
            case, f"已查到您的登记信息（身份证 {ID}），请到窗口补办。",
            revision=case.revision, actor=operator,
        )  # fmt: skip
    assert exc.value.messages == [
        "【否决】答复：含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）："
        f"「{ID}」，建议：110105********002X"
    ]
    assert state(case) == before
    assert conversation(sandbox, account, openid) == []


@pytest.mark.django_db(transaction=True)
def test_a_reply_with_the_accounts_public_hotline_is_sent(
    sandbox: Sandbox, account: Account, operator: Any, account_admin: Any
) -> None:
    add_entry(account, EntryInput(ProofEntry.Kind.PUBLIC_NUMBER, HOTLINE, "政务服务热线"),
              actor=account_admin)  # fmt: skip
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, "公积金怎么提取")
    message = services.reply_to_case(
        case, f"请致电 {HOTLINE} 咨询办理。", revision=case.revision, actor=operator
    )
    assert message.outbound.status == OutboundMessage.Status.SENT
    (sent,) = conversation(sandbox, account, openid)
    assert f"请致电 {HOTLINE} 咨询办理。" in str(sent["payload"])


@pytest.mark.django_db(transaction=True)
def test_a_template_notice_masks_personal_data_in_the_citizens_words(
    sandbox: Sandbox, account: Account, operator: Any
) -> None:
    Account.objects.filter(pk=account.pk).update(notice_template_id="TPL_CASE_ANSWERED")
    account.refresh_from_db()
    openid = sandbox.follower_writing(account)
    case = case_from(account, openid, f"{MOBILE}的快递丢了")
    with time_machine.travel(timezone.now() + timedelta(hours=50)):
        case.refresh_from_db()
        services.reply_to_case(case, "已转交邮政管理部门。", revision=case.revision, actor=operator)
        assert services.notify_held_replies() == 1
    (notice,) = [e for e in conversation(sandbox, account, openid) if e["kind"] == "template"]
    assert notice["payload"]["data"]["thing1"] == "138****5678的快递丢了"


# ------------------------------------------------------------------ the case page


@pytest.mark.django_db
def test_the_case_page_shows_why_a_reply_with_a_mobile_number_was_stopped(
    client: Client, account: Account, operator: Any
) -> None:
    case = case_from(account, "o1", "路灯坏了")
    before = state(case)
    client.force_login(operator)
    typed = f"维修师傅电话 {MOBILE}，请直接联系。"
    r = client.post(f"/desk/cases/{case.pk}/act/",
                    {"action": "reply", "revision": case.revision, "text": typed})  # fmt: skip
    assert r.status_code == 400
    page = r.content.decode()
    assert "没有发送：校对发现以下问题。" in page
    assert (
        f"【否决】答复：含有手机号码，发布前应删除或遮盖（《个人信息保护法》）：「{MOBILE}」，"
        "建议：138****5678"
    ) in page
    assert f">{typed}</textarea>" in page  # what was typed, to fix
    assert 'id="textcheck-veto"' in page and 'id="textcheck-confirm"' not in page
    assert state(case) == before
    # a forged 「仍然发送」 changes nothing: a veto is never sent
    r = client.post(f"/desk/cases/{case.pk}/act/",
                    {"textcheck_confirm": "reply", "textcheck_key": "personal_data:personal_data.mobile:13812345678",
                     "revision": case.revision, "text": typed})  # fmt: skip
    assert r.status_code == 400
    assert state(case) == before


@pytest.mark.django_db
def test_a_reply_with_an_error_goes_once_its_sender_sends_it_anyway(
    client: Client, account: Account, operator: Any
) -> None:
    case = case_from(account, "o1", "路灯坏了")
    before = state(case)
    client.force_login(operator)
    typed = "您好,已安排维修。"
    r = client.post(f"/desk/cases/{case.pk}/act/",
                    {"action": "ask", "revision": case.revision, "text": typed})  # fmt: skip
    assert r.status_code == 400
    page = r.content.decode()
    assert (
        "【错误】答复：中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）：「,」，建议：，"
        in page
    )
    assert 'id="textcheck-confirm"' in page and 'value="ask"' in page
    assert state(case) == before
    keys = r.context["refused"].keys
    r = client.post(f"/desk/cases/{case.pk}/act/",
                    {"textcheck_confirm": "ask", "textcheck_key": keys,
                     "revision": case.revision, "text": typed})  # fmt: skip
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.WAITING
    (out,) = CaseMessage.objects.filter(case=case, direction=CaseMessage.Direction.OUT)
    assert (out.text, out.outbound.payload) == (typed, {"content": typed})
    event = CaseEvent.objects.get(case=case, name="case.asked")
    assert event.data == {"proofread_confirmed": ["punctuation:punctuation.halfwidth:,"]}


@pytest.mark.django_db
def test_an_edit_after_the_warning_is_checked_again(
    client: Client, account: Account, operator: Any
) -> None:
    case = case_from(account, "o1", "路灯坏了")
    client.force_login(operator)
    r = client.post(f"/desk/cases/{case.pk}/act/",
                    {"action": "reply", "revision": case.revision, "text": "您好,已安排维修。"})  # fmt: skip
    keys = r.context["refused"].keys
    r = client.post(f"/desk/cases/{case.pk}/act/",
                    {"textcheck_confirm": "reply", "textcheck_key": keys, "revision": case.revision,
                     "text": f"您好,已安排维修,师傅电话 {MOBILE}。"})  # fmt: skip
    assert r.status_code == 400 and 'id="textcheck-veto"' in r.content.decode()
    assert OutboundMessage.objects.count() == 0


@pytest.mark.django_db
def test_a_clean_reply_is_sent_as_before(client: Client, account: Account, operator: Any) -> None:
    case = case_from(account, "o1", "路灯坏了")
    client.force_login(operator)
    r = client.post(f"/desk/cases/{case.pk}/act/",
                    {"action": "reply", "revision": case.revision, "text": "已安排维修，今天修好。"})  # fmt: skip
    assert r.status_code == 302
    assert CaseEvent.objects.get(case=case, name="case.replied").data == {}
    assert OutboundMessage.objects.count() == 1


# ------------------------------------------------------------------ canned replies


def canned_state() -> tuple[Any, ...]:
    return (
        list(CannedReply.objects.values_list("title", "text")),
        AuditEvent.objects.filter(name__startswith="desk.canned").count(),
    )


@pytest.mark.django_db
def test_a_canned_reply_with_a_phone_number_is_refused_and_nothing_changes(
    client: Client, account: Account, account_admin: Any
) -> None:
    before = canned_state()
    with pytest.raises(textcheck.TextRefused):
        add_canned_reply(account, CannedInput("联系方式", f"请联系王科长 {MOBILE}。"),
                         actor=account_admin)  # fmt: skip
    client.force_login(account_admin)
    r = client.post("/settings/replies/", {"action": "add", "title": "联系方式",
                                           "text": f"{{昵称}}您好，请联系王科长 {MOBILE}。"})  # fmt: skip
    assert r.status_code == 400
    assert (
        f"【否决】内容：含有手机号码，发布前应删除或遮盖（《个人信息保护法》）：「{MOBILE}」"
        in (r.content.decode())
    )
    assert canned_state() == before


@pytest.mark.django_db
def test_a_canned_reply_with_an_error_is_saved_once_the_admin_dismisses_it(
    client: Client, account: Account, account_admin: Any
) -> None:
    client.force_login(account_admin)
    data = {"action": "add", "title": "受理", "text": "{昵称}您好,已受理诉求{诉求编号}。"}
    r = client.post("/settings/replies/", data)
    assert r.status_code == 400 and 'id="textcheck-dismiss"' in r.content.decode()
    r = client.post("/settings/replies/", {**data, "textcheck_dismiss": "1",
                                           "textcheck_key": r.context["refused"].keys,
                                           "textcheck_reason": "沿用上级模板"})  # fmt: skip
    assert r.status_code == 302
    assert list(CannedReply.objects.values_list("text", flat=True)) == [data["text"]]
    assert list(Dismissal.objects.values_list("reason", flat=True)) == ["沿用上级模板"]


@pytest.mark.django_db
def test_a_warning_in_a_canned_reply_is_shown_after_the_save(
    client: Client, account: Account, account_admin: Any
) -> None:
    client.force_login(account_admin)
    r = client.post("/settings/replies/", {"action": "add", "title": "材料",
                                           "text": "材料清单见“政务服务—户籍”。"}, follow=True)  # fmt: skip
    assert [str(m).split("：")[0] for m in r.context["messages"]] == [
        "已添加快捷回复「材料」",
        "已保存，校对提示",
    ]


@pytest.mark.django_db
def test_a_canned_reply_save_checks_its_text_once(
    client: Client, account: Account, account_admin: Any, checker_calls: list[tuple[str, str]]
) -> None:
    client.force_login(account_admin)
    text = "材料清单见“政务服务—户籍”。"
    r = client.post("/settings/replies/", {"action": "add", "title": "材料", "text": text},
                    follow=True)  # fmt: skip
    assert checker_calls == [("canned_reply", text)]
    assert [str(m).split("：")[0] for m in r.context["messages"]][-1] == "已保存，校对提示"
    checker_calls.clear()
    reply = CannedReply.objects.get()
    r = client.post("/settings/replies/", {"action": "edit", "reply": reply.pk, "title": "材料",
                                           "text": text + "请按时办理。"}, follow=True)  # fmt: skip
    assert checker_calls == [("canned_reply", text + "请按时办理。")]
    assert [str(m).split("：")[0] for m in r.context["messages"]][-1] == "已保存，校对提示"


@pytest.mark.django_db
def test_what_a_saved_canned_reply_was_found_to_have_counts_in_the_report(
    client: Client, account: Account, account_admin: Any
) -> None:
    from govwx.content.models import FindingRecord

    client.force_login(account_admin)
    refused = {"action": "add", "title": "联系方式", "text": f"请联系王科长 {MOBILE}。"}
    assert client.post("/settings/replies/", refused).status_code == 400
    assert not FindingRecord.objects.exists()  # a refused save leaves no row
    saved = {"action": "add", "title": "材料", "text": "材料清单见“政务服务—户籍”。"}
    client.post("/settings/replies/", saved, follow=True)
    rows = list(FindingRecord.objects.values_list("where", "family", "severity", "found"))
    assert rows == [("canned_reply", "punctuation", "warning", "—")]
    client.post("/settings/replies/", saved, follow=True)  # checked again: the same row
    assert FindingRecord.objects.count() == 1
