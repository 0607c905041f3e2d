"""群发 against the sandbox over HTTP, its MASSSENDJOBFINISH events pushed to govwx's real
callback: the account type's quota checked before any call (Asia/Shanghai's days and
months), a preview that reaches only the operator's own WeChat, a send to a tag that
reaches exactly its followers with the event's counts recorded, a list split into calls
of at most 10 000 with a clientmsgid each, a send cut off after its first call that
makes no call twice and misses nobody, and deleting a sent article."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from govwx.accounts.models import Account, AuditEvent
from govwx.content import mass
from govwx.content.models import Article, MassCall, MassSend, Material
from govwx.wechat.client import WeChatClient
from govwx.wechat.tests.test_client import Sandbox

from . import test_publishing
from .test_publishing import (
    Killed,
    approved,
    drafts,
    fetch,
    history,
    picture,
    register,
    run_jobs,
    schedule,
)

wx = test_publishing.wx  # the sandbox fixture, shared

pytestmark = pytest.mark.django_db(transaction=True)

ST = MassSend.Status
NOV3 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def service(wx: Sandbox, account: Account) -> Iterator[Account]:
    """The account as a verified service account (服务号), here and on the platform."""
    Account.objects.filter(pk=account.pk).update(kind=Account.Kind.SERVICE)
    account.refresh_from_db()
    register(wx, account, callback=wx.callback, kind="service")  # type: ignore[attr-defined]
    yield account


def followers(box: Sandbox, account: Account, n: int, prefix: str, tag: str = "") -> list[str]:
    """n followers of the account on the platform (each follows: govwx hears of it), in
    `tag` when one is given."""
    found = []
    for i in range(n):
        openid = f"o{prefix}{i:06d}".ljust(28, "x")
        path = f"/api/accounts/{account.appid}/followers"
        box.call("POST", path, {"openid": openid, "nickname": f"{prefix}{i}", "follow": True})
        if tag:
            box.call("POST", f"{path}/{openid}/tags", {"name": tag})
        found.append(openid)
    return found


def chat(box: Sandbox, account: Account, openid: str) -> list[dict[str, Any]]:
    """The follower's chat: what the account sent them (mass messages and previews)."""
    entries = box.call("GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation")
    return [e for e in entries["entries"] if e["kind"] in ("mass", "preview")]


def published_article(box: Sandbox, account: Account, editor: Any) -> Article:
    a = approved(account, editor)
    schedule(a)
    run_jobs(box, account)
    a.refresh_from_db()
    assert a.status == Article.Status.PUBLISHED
    return a


def sent_here(account: Account) -> int:
    return MassSend.objects.filter(account=account).count()


# ------------------------------------------------------------------ quotas


def test_a_subscription_account_mass_sends_once_a_shanghai_day(
    wx: Sandbox,
    account: Account,
    operator: Any,
) -> None:
    late = datetime(2026, 11, 3, 15, 30, tzinfo=UTC)  # 23:30 on 3 November in Shanghai
    with time_machine.travel(late, tick=True):
        people = followers(wx, account, 2, "Sub")
        assert mass.quota(account).words == "今天还可群发 1 次"
        first = mass.create(account, kind="text", text="今晚停水，请储水。", to_all=True,
                            actor=operator)  # fmt: skip
        assert MassSend.objects.get(pk=first.pk).status == ST.SENT  # sent at once
        assert mass.quota(account).words == "今天还可群发 0 次"
        audited = AuditEvent.objects.count()
        with pytest.raises(ValidationError) as refused:
            mass.create(account, kind="text", text="再发一次", to_all=True, actor=operator)
        assert refused.value.messages == [
            "订阅号每天只能群发 1 次，11月03日已有群发 / a subscription account mass-sends once a day"
        ]
        assert sent_here(account) == 1 and AuditEvent.objects.count() == audited
        # a tag is a mass send too
        with pytest.raises(ValidationError, match="订阅号每天只能群发 1 次"):
            mass.create(account, kind="text", text="再发一次", tag_id=2, actor=operator)
        assert [j["kind"] for j in run_jobs(wx, account)] == ["mass"]  # WeChat saw one
    with time_machine.travel(late + timedelta(minutes=40), tick=True):  # 00:10 on the 4th
        assert mass.quota(account).words == "今天还可群发 1 次"
        second = mass.create(account, kind="text", text="明日恢复供水。", to_all=True,
                             actor=operator)  # fmt: skip
        assert MassSend.objects.get(pk=second.pk).status == ST.SENT
        run_jobs(wx, account)
    for openid in people:
        assert [e["payload"]["content"] for e in chat(wx, account, openid)] == [
            "今晚停水，请储水。", "明日恢复供水。"
        ]  # fmt: skip


def test_a_service_account_sends_to_all_once_a_day_and_four_times_a_month(
    service: Account,
    wx: Sandbox,
    operator: Any,
) -> None:
    account = service
    with time_machine.travel(NOV3, tick=True):
        people = followers(wx, account, 2, "Svc", tag="志愿者")
        assert mass.quota(account).words == (
            "今天还可向全部粉丝群发 1 次（本月还可 4 次）；按标签或名单群发不限次数，"
            "每位粉丝每月最多收到 4 条群发"
        )
        mass.create(account, kind="text", text="全体通知", to_all=True, actor=operator)
        with pytest.raises(
            ValidationError, match="服务号每天只能向全部粉丝群发 1 次，11月03日已有"
        ):
            mass.create(account, kind="text", text="再发", to_all=True, actor=operator)
        # to a tag (or a list): no daily limit; WeChat filters followers over their four
        by_tag = mass.create(account, kind="text", text="志愿者集合", tag_id=100,
                             tag_name="志愿者", actor=operator)  # fmt: skip
        by_list = mass.create(account, kind="text", text="名单通知", openids=people,
                              actor=operator)  # fmt: skip
        assert [MassSend.objects.get(pk=m.pk).status for m in (by_tag, by_list)] == [ST.SENT] * 2
        # three more to all, later this month (queued for their days: no call now)
        for day in (10, 11, 12):
            at = datetime(2026, 11, day, 2, 0, tzinfo=UTC)
            mass.create(account, kind="text", text=f"{day}日通知", to_all=True, due_at=at,
                        actor=operator)  # fmt: skip
        assert mass.quota(account).words.startswith("今天还可向全部粉丝群发 0 次（本月还可 0 次）")
        with pytest.raises(
            ValidationError, match="服务号每月只能向全部粉丝群发 4 次，2026年11月已用完"
        ):
            mass.create(account, kind="text", text="13日通知", to_all=True,
                        due_at=datetime(2026, 11, 13, 2, 0, tzinfo=UTC), actor=operator)  # fmt: skip
        december = mass.create(
            account,
            kind="text",
            text="12月通知",
            to_all=True,
            due_at=datetime(2026, 11, 30, 16, 30, tzinfo=UTC),
            actor=operator,
        )  # fmt: skip  (1 December in Shanghai)
        assert MassSend.objects.get(pk=december.pk).status == ST.SCHEDULED
        run_jobs(wx, account)
        assert [e["payload"]["content"] for e in chat(wx, account, people[0])] == [
            "全体通知", "志愿者集合", "名单通知"
        ]  # fmt: skip


# ------------------------------------------------------------------ bad input


def _voice(account: Account) -> Material:
    return Material.objects.create(
        account=account, kind=Material.Kind.VOICE, title="广播", content_type="audio/mpeg",
        size=10, sha256="v" * 64, file="content/x.mp3",
    )  # fmt: skip


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("empty-text", {"kind": "text", "text": "  ", "to_all": True}, "群发文字不能为空"),
    ("long-text", {"kind": "text", "text": "字" * 601, "to_all": True}, "群发文字最多 600 字，现为 601 字"),
    ("unknown-kind", {"kind": "voice", "text": "x", "to_all": True}, "未知的群发类型"),
    ("no-article", {"kind": "mpnews", "to_all": True}, "请选择本公众号的文章"),
    ("draft-article", {"kind": "mpnews", "article": "draft", "to_all": True}, "只能群发已发布到微信的文章"),
    ("not-a-picture", {"kind": "image", "image": "voice", "to_all": True}, "请选择素材库中的图片"),
    ("no-audience", {"kind": "text", "text": "x"}, "请选择全部粉丝、一个标签或一份名单"),
    ("two-audiences", {"kind": "text", "text": "x", "to_all": True, "tag_id": 100}, "请选择全部粉丝、一个标签或一份名单"),
    ("list-on-subscription", {"kind": "text", "text": "x", "openids": ["oAAAAAAA", "oBBBBBBB"]}, "按名单群发仅限认证服务号"),
    ("past", {"kind": "text", "text": "x", "to_all": True, "due_at": "past"}, "已过"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_in_words_before_anything(
    account: Account, operator: Any, editor: Any, case: str, given: dict[str, Any], message: str
) -> None:
    kw = dict(given)
    if kw.get("article") == "draft":
        kw["article"] = approved(account, editor)  # scheduled, not yet on WeChat
    if kw.get("image") == "voice":
        kw["image"] = _voice(account)
    if kw.get("due_at") == "past":
        kw["due_at"] = timezone.now() - timedelta(hours=1)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        mass.create(account, actor=operator, **kw)
    assert message in refused.value.messages[0] and " / " in refused.value.messages[0]
    assert sent_here(account) == 0 and AuditEvent.objects.count() == before


def test_a_list_send_needs_good_openids_and_at_least_two(service: Account, operator: Any) -> None:
    with pytest.raises(ValidationError, match="OpenID 格式不正确：bad id、x / invalid OpenIDs"):
        mass.create(service, kind="text", text="x", openids=["oGood0000001", "bad id", "x"],
                    actor=operator)  # fmt: skip
    with pytest.raises(ValidationError, match="按名单群发至少 2 位粉丝"):
        mass.create(service, kind="text", text="x", openids=["oOnly0000001"] * 3, actor=operator)
    assert sent_here(service) == 0


def test_only_content_publish_may_send(account: Account, editor: Any) -> None:
    with pytest.raises(PermissionDenied):
        mass.create(account, kind="text", text="x", to_all=True, actor=editor)
    with pytest.raises(PermissionDenied):
        mass.preview(account, "oSomeone0001", kind="text", text="x", actor=editor)
    assert sent_here(account) == 0


# ------------------------------------------------------------------ preview


def test_a_preview_reaches_only_the_operators_own_wechat(
    wx: Sandbox,
    account: Account,
    operator: Any,
    editor: Any,
) -> None:
    me, other = followers(wx, account, 2, "Prv")
    article = published_article(wx, account, editor)
    mass.preview(account, me, kind="text", text="预览：明日停水", actor=operator)
    mass.preview(account, me, kind="mpnews", article=article, actor=operator)
    got = chat(wx, account, me)
    assert [(e["kind"], e["msg_type"]) for e in got] == [("preview", "text"), ("preview", "mpnews")]
    assert got[0]["payload"]["content"] == "预览：明日停水"
    assert got[1]["payload"]["articles"][0]["title"] == article.title
    assert chat(wx, account, other) == []
    # outside every quota, not in the history, no draft left behind
    assert mass.quota(account).words == "今天还可群发 1 次" and sent_here(account) == 0
    assert [h["origin"] for h in history(wx, account)] == ["publish"]
    assert drafts(account) == 0
    assert AuditEvent.objects.filter(name="mass.previewed").count() == 2

    with pytest.raises(ValidationError, match="请填写接收预览的微信号的 OpenID"):
        mass.preview(account, "x y", kind="text", text="预览", actor=operator)
    with pytest.raises(ValidationError, match="预览发送失败：微信返回错误 40003：不合法的 OpenID"):
        mass.preview(account, "oStranger000001", kind="text", text="预览", actor=operator)


# ------------------------------------------------------------------ a tag, events, delete


def test_a_send_to_a_tag_reaches_exactly_its_followers_and_the_counts_come_back(
    wx: Sandbox,
    account: Account,
    operator: Any,
    editor: Any,
) -> None:
    east = followers(wx, account, 3, "East", tag="东湖片区")
    west = followers(wx, account, 2, "West")
    with transaction.atomic():
        mass.request_tags(account, actor=operator)  # read after commit
    assert mass.account_tags(account)["tags"] == [{"id": 100, "name": "东湖片区", "count": 3}]
    article = published_article(wx, account, editor)
    send = mass.create(account, kind="mpnews", article=article, tag_id=100, tag_name="东湖片区",
                       actor=operator)  # fmt: skip
    send.refresh_from_db()
    call = send.calls.get()
    assert send.status == ST.SENT and call.status == MassCall.Status.CALLED and call.msg_id
    assert re.fullmatch(rf"govwx-{send.pk}-[0-9a-f]{{8}}-0", call.clientmsgid)

    finished = run_jobs(wx, account)
    assert [(j["kind"], j["sent_count"]) for j in finished] == [("mass", 3)]
    call.refresh_from_db()
    send.refresh_from_db()
    assert (call.status, call.total, call.filtered, call.sent, call.errors) == (
        MassCall.Status.FINISHED, 3, 3, 3, 0
    )  # fmt: skip
    assert send.finished_at is not None
    counts = mass.counts(mass.get_send(account, send.pk))
    assert (counts.total, counts.sent, counts.finished_calls, counts.calls) == (3, 3, 1, 1)
    for openid in east:
        [card] = chat(wx, account, openid)
        assert (card["kind"], card["payload"]["articles"][0]["title"]) == ("mass", article.title)
    for openid in west:
        assert chat(wx, account, openid) == []
    mass_sent = [h for h in history(wx, account) if h["origin"] == "mass"]
    assert [i["title"] for i in mass_sent[0]["items"]] == [article.title]
    assert drafts(account) == 0  # the send's own draft, used

    text = MassSend.objects.create(account=account, kind="text", text="x", to_all=True,
                                   due_at=timezone.now(), status=ST.SENT)  # fmt: skip
    with pytest.raises(ValidationError, match="微信只能删除图文群发"):
        mass.delete(text, actor=operator)
    with pytest.raises(PermissionDenied):
        mass.delete(send, actor=editor)
    mass.delete(send, actor=operator)
    assert MassSend.objects.get(pk=send.pk).status == ST.DELETED
    with pytest.raises(urllib.error.HTTPError) as gone:
        fetch(mass_sent[0]["items"][0]["url"])
    assert gone.value.code == 410
    with pytest.raises(ValidationError, match="只能删除已发送的群发"):
        mass.delete(MassSend.objects.get(pk=send.pk), actor=operator)


def test_events_of_unknown_sends_and_malformed_ones_change_nothing(account: Account) -> None:
    assert mass.on_mass_event(account.pk, {"MsgID": "1000001", "Status": "send success"}) is False
    assert mass.on_mass_event(account.pk, {"Status": "send success"}) is False


# ------------------------------------------------------------------ a list, split and cut off


def test_a_list_of_25005_followers_is_split_into_three_calls(
    service: Account, operator: Any
) -> None:
    ids = [f"oList{i:023d}" for i in range(25_005)]
    later = timezone.now() + timedelta(hours=1)  # queued: no call now
    send = mass.create(service, kind="text", text="名单通知", openids=ids, due_at=later,
                       actor=operator)  # fmt: skip
    calls = list(MassCall.objects.filter(mass_send=send).order_by("index"))
    assert [len(c.openids) for c in calls] == [10_000, 10_000, 5_005]
    nonce = calls[0].clientmsgid.split("-")[2]
    assert [c.clientmsgid for c in calls] == [f"govwx-{send.pk}-{nonce}-{i}" for i in range(3)]
    assert [o for c in calls for o in c.openids] == ids  # each once, in order
    assert [len(c) for c in mass.split(ids[:10_001])] == [9_999, 2]  # no call of one
    assert AuditEvent.objects.get(name="mass.created").data["followers"] == 25_005


class DiesAfterTheFirstCall(WeChatClient):
    calls = 0

    def mass_send_openids(self, *args: Any, **kw: Any) -> dict[str, Any]:
        answer = super().mass_send_openids(*args, **kw)
        type(self).calls += 1
        raise Killed  # WeChat took it; the worker dies before it is marked
        return answer  # pragma: no cover


def test_a_send_cut_off_after_its_first_call_makes_no_call_twice_and_misses_nobody(
    service: Account,
    wx: Sandbox,
    operator: Any,
    editor: Any,
    monkeypatch: Any,
) -> None:
    account = service
    monkeypatch.setattr(mass, "LIST_MAX", 3)  # 7 followers: calls of 3, 2 and 2
    with time_machine.travel(NOV3, tick=True):
        people = followers(wx, account, 7, "Lst")
        article = published_article(wx, account, editor)
        send = mass.create(account, kind="mpnews", article=article, openids=people,
                           due_at=NOV3 + timedelta(minutes=1), actor=operator)  # fmt: skip
        assert [len(c.openids) for c in send.calls.order_by("index")] == [3, 2, 2]
    with time_machine.travel(NOV3 + timedelta(minutes=1), tick=True):
        with pytest.raises(Killed):
            mass.send(send.pk, client=DiesAfterTheFirstCall(account))
        assert mass.send(send.pk) == "busy"  # the dead worker's claim holds a while
        first = run_jobs(wx, account)  # WeChat ends the first call; its event comes
        assert [(j["kind"], j["sent_count"]) for j in first] == [("mass", 3)]
    with time_machine.travel(NOV3 + timedelta(minutes=4), tick=True):  # the claim ran out
        assert mass.send(send.pk) == "sent"
        rest = run_jobs(wx, account)
    assert [(j["kind"], j["sent_count"]) for j in rest] == [("mass", 2), ("mass", 2)]
    calls = list(MassCall.objects.filter(mass_send=send).order_by("index"))
    assert [(c.status, c.sent) for c in calls] == [(MassCall.Status.FINISHED, 3),
                                                   (MassCall.Status.FINISHED, 2),
                                                   (MassCall.Status.FINISHED, 2)]  # fmt: skip
    assert calls[0].msg_id == str(first[0]["msg_id"])  # WeChat named the first call's
    assert len({c.msg_id for c in calls}) == 3
    assert AuditEvent.objects.filter(name="mass.call_repeated").count() == 1
    for openid in people:  # everyone once, nobody twice
        assert [e["payload"]["articles"][0]["title"] for e in chat(wx, account, openid)] == [
            article.title
        ]
    assert drafts(account) == 0  # the repeat's draft is not left in the draft box
    send.refresh_from_db()
    assert send.status == ST.SENT and send.finished_at is not None


def test_a_library_picture_is_pushed_and_mass_sent(
    wx: Sandbox,
    account: Account,
    operator: Any,
    editor: Any,
) -> None:
    [someone] = followers(wx, account, 1, "Pic")
    poster = picture(account, editor, "海报.png", (320, 240))
    assert poster.wechat_media_id == ""  # not on WeChat yet: pushed when it is sent
    send = mass.create(account, kind="image", image=poster, to_all=True, actor=operator)
    poster.refresh_from_db()
    assert MassSend.objects.get(pk=send.pk).status == ST.SENT and poster.wechat_media_id
    run_jobs(wx, account)
    [got] = chat(wx, account, someone)
    assert (got["msg_type"], got["payload"]["media_id"]) == ("image", poster.wechat_media_id)
    with urllib.request.urlopen(got["payload"]["pic_url"], timeout=10) as answer:
        assert answer.read().startswith(b"\x89PNG")  # the picture itself


def test_a_sweep_sends_what_is_due_and_takes_over_a_dead_workers_send(
    wx: Sandbox,
    account: Account,
    operator: Any,
) -> None:
    [someone] = followers(wx, account, 1, "Swp")
    with time_machine.travel(NOV3, tick=True):
        queued = mass.create(account, kind="text", text="十点通知", to_all=True,
                             due_at=NOV3 + timedelta(hours=1), actor=operator)  # fmt: skip
        assert mass.send_due() == 0 and mass.send(queued.pk) == "not due"
    with time_machine.travel(NOV3 + timedelta(hours=1, seconds=1), tick=True):
        # a worker took it and died before any call: its claim holds for a while
        MassSend.objects.filter(pk=queued.pk).update(
            status=ST.SENDING, sending_until=timezone.now() + mass.LEASE
        )
        assert mass.send_due() == 0
    with time_machine.travel(NOV3 + timedelta(hours=1, minutes=3), tick=True):
        assert mass.send_due() == 1
        assert MassSend.objects.get(pk=queued.pk).status == ST.SENT
        assert mass.send_due() == 0 and mass.send(queued.pk) == "settled"
        run_jobs(wx, account)
    assert [e["payload"]["content"] for e in chat(wx, account, someone)] == ["十点通知"]


def test_the_desks_loop_runs_the_sweep_of_due_sends(
    wx: Sandbox, account: Account, operator: Any
) -> None:
    """A send whose queued task was lost (a worker killed, a queue emptied) is sent by
    the sweep that `govwx desk run`, started by `govwx serve`, runs as a chore."""
    from django.core.management import call_command

    from govwx.lib import chores

    assert {"content.mass_due", "content.publish_due"} <= set(chores.registered())
    [someone] = followers(wx, account, 1, "Loop")
    with time_machine.travel(NOV3, tick=True):
        queued = mass.create(account, kind="text", text="循环通知", to_all=True,
                             due_at=NOV3 + timedelta(hours=1), actor=operator)  # fmt: skip
    with time_machine.travel(NOV3 + timedelta(hours=1, seconds=5), tick=True):
        for chore in chores._chores.values():  # every chore due, whenever it last ran
            chore.last = float("-inf")
        call_command("desk", "run", "--once")
        assert MassSend.objects.get(pk=queued.pk).status == ST.SENT
        run_jobs(wx, account)
    assert [e["payload"]["content"] for e in chat(wx, account, someone)] == ["循环通知"]
