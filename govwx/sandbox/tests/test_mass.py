"""Mass send by WeChat's rules: sendall to all or a tag, send to an OpenID list (bounds,
service accounts only), preview, get and delete; quotas by account type in Asia/Shanghai's
days and months; clientmsgid and the default digest against repeats; the messages in
the followers' chats; MASSSENDJOBFINISH read by wechatpy."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from wechatpy.crypto import WeChatCrypto

from govwx.sandbox import services
from govwx.sandbox.models import Account, Draft, Entry, Follower, MassMessage, Publication

from .conftest import register
from .kit import API, add_draft, add_material, article, call, cover, run_jobs, token_for
from .mediafiles import picture
from .peer import AES_KEY, APPID, TOKEN, Peer, serve

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 10:00 in Shanghai on a Wednesday in mid-month
NOON = datetime(2026, 12, 16, 10, 0, tzinfo=SHANGHAI)


def followers(account: Account, n: int, *, tag: str = "") -> list[Follower]:
    made = []
    for i in range(n):
        follower = services.create_follower(account, nickname=f"粉丝{i}")
        services.follow(follower)
        if tag:
            services.tag_follower(follower, name=tag)
        made.append(follower)
    return made


def text(content: str, **extra: Any) -> dict[str, Any]:
    return {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": content}, **extra}


def sendall(client: Client, token: str, body: dict[str, Any]) -> dict[str, Any]:
    return dict(call(client, "message/mass/sendall", token, body))


def mass_entries(openid: str | None = None) -> list[Entry]:
    qs = Entry.objects.filter(kind="mass").order_by("id")
    return list(qs.filter(follower__openid=openid) if openid else qs)


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def service(frozen: Any, db: Any) -> Account:
    return register(type="service")


@pytest.fixture
def subscription(frozen: Any, db: Any) -> Account:
    return register()


def test_a_send_to_all_reaches_every_follower_and_is_told(client: Client, frozen: Any) -> None:
    with serve(Peer(mode="safe")) as peer:
        account = register(peer.url)
        fans = followers(account, 3)
        services.unfollow(fans[2])
        peer.received.clear()
        token = token_for(client)
        answer = sendall(client, token, text("今晚 8 点起停水检修"))
        assert (answer["errcode"], answer["errmsg"]) == (0, "send job submission success")
        msg_id = answer["msg_id"]
        assert "msg_data_id" not in answer  # only an article message has one
        assert call(client, "message/mass/get", token, {"msg_id": msg_id}) == {
            "msg_id": msg_id,
            "msg_status": "SENDING",
        }
        assert mass_entries() == []
        frozen.shift(3)
        assert call(client, "message/mass/get", token, {"msg_id": msg_id})["msg_status"] == (
            "SEND_SUCCESS"
        )
    entries = mass_entries()
    assert [e.follower.openid for e in entries] == [fans[0].openid, fans[1].openid]
    assert entries[0].payload == {"msg_type": "text", "content": "今晚 8 点起停水检修"}
    event = peer.received[-1].message
    assert (event.event, event.id, event.status) == ("masssendjobfinish", msg_id, "send success")
    assert (event.total_count, event.filter_count, event.sent_count, event.error_count) == (
        2,
        2,
        2,
        0,
    )


def test_a_subscription_account_sends_once_a_day(
    client: Client, subscription: Account, frozen: Any
) -> None:
    followers(subscription, 2)
    token = token_for(client)
    assert sendall(client, token, text("第一条"))["errcode"] == 0
    assert sendall(client, token, text("第二条")) == {
        "errcode": 45028,
        "errmsg": "has no masssend quota",
    }
    assert MassMessage.objects.count() == 1
    run_jobs(client)
    # a new day in Shanghai (16:00 UTC), not in UTC
    frozen.move_to(datetime(2026, 12, 17, 0, 0, 1, tzinfo=SHANGHAI))
    token = token_for(client)
    assert sendall(client, token, text("第二条"))["errcode"] == 0


def test_a_tag_send_reaches_the_tag(client: Client, subscription: Account) -> None:
    tagged = followers(subscription, 2, tag="社区")
    followers(subscription, 1)
    token = token_for(client)
    tag_id = call(client, "tags/get", token, method="GET")["tags"][0]["id"]
    body = {
        "filter": {"is_to_all": False, "tag_id": tag_id},
        "msgtype": "text",
        "text": {"content": "社区通知"},
    }
    assert sendall(client, token, body)["errcode"] == 0
    run_jobs(client)
    assert sorted(e.follower.openid for e in mass_entries()) == sorted(f.openid for f in tagged)
    assert MassMessage.objects.get().total_count == 2
    for rule, errcode in (
        ({"is_to_all": False, "tag_id": 999}, 40050),
        ({"is_to_all": False, "tag_id": "x"}, 40050),
        ({"is_to_all": False}, 40050),
        ({"is_to_all": "yes"}, 47001),
    ):
        assert sendall(client, token, {**body, "filter": rule})["errcode"] == errcode
    assert MassMessage.objects.count() == 1


def test_a_service_account_caps_each_follower_at_four_a_month(
    client: Client, service: Account, frozen: Any
) -> None:
    early = followers(service, 2, tag="居民")
    token = token_for(client)
    tag_id = call(client, "tags/get", token, method="GET")["tags"][0]["id"]

    def send(n: int) -> MassMessage:
        body = {
            "filter": {"is_to_all": False, "tag_id": tag_id},
            "msgtype": "text",
            "text": {"content": f"第{n}条通知"},
        }
        answer = sendall(client, token, body)
        assert answer["errcode"] == 0, answer
        run_jobs(client)
        return MassMessage.objects.get(msg_id=answer["msg_id"])

    for n in range(1, 5):
        assert send(n).sent_count == 2
    fifth = send(5)  # both are at four: filtered out
    assert (fifth.total_count, fifth.filter_count, fifth.sent_count) == (2, 0, 0)
    late = followers(service, 1, tag="居民")
    sixth = send(6)
    assert (sixth.total_count, sixth.filter_count, sixth.sent_count) == (3, 1, 1)
    assert [e.follower_id for e in mass_entries()][-1] == late[0].pk
    assert len(mass_entries(early[0].openid)) == 4
    frozen.move_to(datetime(2027, 1, 1, 8, 0, tzinfo=SHANGHAI))  # a new month
    token = token_for(client)
    assert send(7).sent_count == 3


def test_a_service_account_sends_to_all_once_a_day(
    client: Client, service: Account, frozen: Any
) -> None:
    followers(service, 2)
    token = token_for(client)
    assert sendall(client, token, text("全体一"))["errcode"] == 0
    assert sendall(client, token, text("全体二"))["errcode"] == 45028
    for day in (17, 18, 19):
        frozen.move_to(datetime(2026, 12, day, 9, 0, tzinfo=SHANGHAI))
        assert sendall(client, token_for(client), text(f"全体{day}"))["errcode"] == 0
    frozen.move_to(datetime(2026, 12, 20, 9, 0, tzinfo=SHANGHAI))
    assert sendall(client, token_for(client), text("第五次"))["errcode"] == 45028  # 4 a month


def test_clientmsgid_refuses_repeats(client: Client, service: Account, frozen: Any) -> None:
    followers(service, 2)
    token = token_for(client)
    tag = call(client, "tags/create", token, {"tag": {"name": "干部"}})["tag"]["id"]
    body = {
        "filter": {"is_to_all": False, "tag_id": tag},
        "msgtype": "text",
        "text": {"content": "会议通知"},
    }
    first = sendall(client, token, {**body, "clientmsgid": "notice-2026-12-16"})
    assert first["errcode"] == 0
    again = {**body, "text": {"content": "另一条"}, "clientmsgid": "notice-2026-12-16"}
    assert sendall(client, token, again)["errcode"] == 45066  # within a minute
    frozen.shift(120)
    assert sendall(client, token, again) == {
        "errcode": 45065,
        "errmsg": "clientmsgid exist",
        "msg_id": first["msg_id"],
    }
    frozen.shift(24 * 3600)
    token = token_for(client)
    assert sendall(client, token, again)["errcode"] == 0  # 24 hours on
    assert sendall(client, token, {**body, "clientmsgid": "x" * 65})["errcode"] == 45067
    assert sendall(client, token, {**body, "clientmsgid": 5})["errcode"] == 47001


def test_without_clientmsgid_the_same_audience_and_content_is_a_repeat(
    client: Client, service: Account, frozen: Any
) -> None:
    followers(service, 2)
    token = token_for(client)
    tag = call(client, "tags/create", token, {"tag": {"name": "干部"}})["tag"]["id"]
    body = {
        "filter": {"is_to_all": False, "tag_id": tag},
        "msgtype": "text",
        "text": {"content": "会议通知"},
    }
    first = sendall(client, token, body)["msg_id"]
    frozen.shift(300)
    assert sendall(client, token, body) == {
        "errcode": 45065,
        "errmsg": "clientmsgid exist",
        "msg_id": first,
    }
    assert sendall(client, token, {**body, "text": {"content": "会议通知（更正）"}})["errcode"] == 0


def test_send_to_openids(client: Client, service: Account) -> None:
    fans = followers(service, 3)
    token = token_for(client)
    body = {
        "touser": [fans[0].openid, fans[2].openid, fans[0].openid],
        "msgtype": "text",
        "text": {"content": "您的业务已办结"},
    }
    answer = call(client, "message/mass/send", token, body)
    assert answer["errcode"] == 0
    run_jobs(client)
    assert [e.follower_id for e in mass_entries()] == [fans[0].pk, fans[2].pk]
    assert MassMessage.objects.get().total_count == 2


@pytest.mark.parametrize(
    ("touser", "errcode"),
    [
        ("one", 47001),
        (["oMass00000000000000000000001"], 40130),
        ([f"o{i:027d}" for i in range(10_001)], 40032),
        (["oNobody000000000000000000001", "oNobody000000000000000000002"], 40003),
    ],
)
def test_send_refuses_bad_openid_lists(
    client: Client, service: Account, touser: Any, errcode: int
) -> None:
    followers(service, 2)
    token = token_for(client)
    body = {"touser": touser, "msgtype": "text", "text": {"content": "x"}}
    assert call(client, "message/mass/send", token, body)["errcode"] == errcode
    assert not MassMessage.objects.exists()


def test_send_to_openids_needs_a_verified_service_account(client: Client, db: Any) -> None:
    account = register()
    fans = followers(account, 2)
    token = token_for(client)
    body = {"touser": [f.openid for f in fans], "msgtype": "text", "text": {"content": "x"}}
    assert call(client, "message/mass/send", token, body) == {
        "errcode": 48001,
        "errmsg": "api unauthorized",
    }
    register(type="service", verified=False)
    assert call(client, "message/mass/send", token, body)["errcode"] == 48001
    assert sendall(client, token, text("未认证"))["errcode"] == 48001
    register(verified=True)
    assert call(client, "message/mass/send", token, body)["errcode"] == 0
    assert Account.objects.get().kind == "service"  # an update without a type keeps it


def test_an_article_message(client: Client, frozen: Any) -> None:
    with serve(Peer(mode="safe")) as peer:
        account = register(peer.url)
        fans = followers(account, 2)
        token = token_for(client)
        thumb = cover(client, token)
        media_id = add_draft(client, token, article(thumb), article(thumb, title="第二篇"))
        answer = sendall(
            client,
            token,
            {
                "filter": {"is_to_all": True},
                "msgtype": "mpnews",
                "mpnews": {"media_id": media_id},
                "send_ignore_reprint": 0,
            },
        )
        assert answer["errcode"] == 0 and isinstance(answer["msg_data_id"], int)
        peer.received.clear()
        run_jobs(client)
    assert not Draft.objects.exists()
    publication = Publication.objects.get(origin="mass")
    assert publication.msg_data_id == answer["msg_data_id"]
    entry = mass_entries(fans[0].openid)[0]
    urls = [f"http://testserver/sandbox/s/{publication.article_id}/{i}" for i in (1, 2)]
    assert entry.payload == {
        "msg_type": "mpnews",
        "article_id": publication.article_id,
        "articles": [
            {
                "idx": 1,
                "title": "示例市开展冬季供暖检查",
                "description": "",
                "pic_url": f"http://testserver/sandbox/material/{thumb}",
                "url": urls[0],
            },
            {
                "idx": 2,
                "title": "第二篇",
                "description": "",
                "pic_url": f"http://testserver/sandbox/material/{thumb}",
                "url": urls[1],
            },
        ],
    }
    q = peer.received[0].query
    xml = ET.fromstring(
        WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt_message(
            peer.received[0].body, q["msg_signature"], q["timestamp"], q["nonce"]
        )
    )
    assert xml.findtext("Event") == "MASSSENDJOBFINISH"
    assert xml.findtext("MsgID") == str(answer["msg_id"])
    assert xml.findtext("CopyrightCheckResult/CheckState") == "1"
    assert xml.findtext("ArticleUrlResult/Count") == "2"
    assert [
        i.findtext("ArticleUrl") for i in xml.findall("ArticleUrlResult/ResultList/item")
    ] == urls
    # delete: the pages go, the cards stay
    assert call(
        client, "message/mass/delete", token, {"msg_id": answer["msg_id"], "article_idx": 2}
    ) == {"errcode": 0, "errmsg": "ok"}
    assert client.get(urls[1].removeprefix("http://testserver")).status_code == 410
    assert (
        call(client, "message/mass/get", token, {"msg_id": answer["msg_id"]})["msg_status"]
        == "SEND_SUCCESS"
    )
    call(client, "message/mass/delete", token, {"msg_id": answer["msg_id"]})
    assert (
        call(client, "message/mass/get", token, {"msg_id": answer["msg_id"]})["msg_status"]
        == "DELETE"
    )
    assert len(mass_entries()) == 2


def test_mass_delete_errors(client: Client, service: Account) -> None:
    followers(service, 2)
    token = token_for(client)
    msg_id = sendall(client, token, text("纯文本"))["msg_id"]
    assert (
        call(client, "message/mass/delete", token, {"msg_id": msg_id})["errcode"] == 40059
    )  # sending
    run_jobs(client)
    assert (
        call(client, "message/mass/delete", token, {"msg_id": msg_id})["errcode"] == 40008
    )  # text
    for body in ({"msg_id": 1}, {"msg_id": "x"}, {}):
        assert call(client, "message/mass/delete", token, body)["errcode"] == 40059
        assert call(client, "message/mass/get", token, body)["errcode"] == 40059


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"msgtype": "mpnews", "mpnews": {"media_id": "NOPE"}}, 40007),
        ({"msgtype": "image", "images": {"media_ids": ["NOPE"]}}, 40007),
        ({"msgtype": "image", "image": {"media_id": ""}}, 40007),
        ({"msgtype": "voice", "voice": {"media_id": "NOPE"}}, 40007),
        ({"msgtype": "text", "text": {"content": " "}}, 44004),
        ({"msgtype": "text"}, 44004),
        ({"msgtype": "mpvideo", "mpvideo": {"media_id": "x"}}, 40008),
        ({"msgtype": "fax"}, 40008),
        ({"msgtype": "text", "text": {"content": "x"}, "send_ignore_reprint": 2}, 40035),
        ({"msgtype": "text", "text": {"content": "x"}, "filter": None}, 47001),
    ],
)
def test_sends_refuse_bad_content(
    client: Client, subscription: Account, body: dict[str, Any], errcode: int
) -> None:
    followers(subscription, 2)
    token = token_for(client)
    assert sendall(client, token, {"filter": {"is_to_all": True}, **body})["errcode"] == errcode
    assert not MassMessage.objects.exists()


def test_a_picture_message(client: Client, subscription: Account) -> None:
    fans = followers(subscription, 2)
    token = token_for(client)
    media_id = add_material(client, token, "image", picture())["media_id"]
    body = {"filter": {"is_to_all": True}, "msgtype": "image", "images": {"media_ids": [media_id]}}
    assert sendall(client, token, body)["errcode"] == 0
    run_jobs(client)
    url = f"http://testserver/sandbox/material/{media_id}"
    assert mass_entries(fans[1].openid)[0].payload == {
        "msg_type": "image",
        "media_id": media_id,
        "pic_url": url,
        "pic_urls": [url],
    }


def test_a_preview_reaches_one_follower_at_once_outside_the_quota(
    client: Client, subscription: Account
) -> None:
    fans = followers(subscription, 2)
    token = token_for(client)
    thumb = cover(client, token)
    media_id = add_draft(client, token, article(thumb))
    answer = call(
        client,
        "message/mass/preview",
        token,
        {"touser": fans[0].openid, "msgtype": "mpnews", "mpnews": {"media_id": media_id}},
    )
    assert (answer["errcode"], answer["errmsg"]) == (0, "preview success")
    preview = Entry.objects.get(kind="preview")
    assert preview.follower_id == fans[0].pk and preview.payload["msg_type"] == "mpnews"
    assert Draft.objects.filter(media_id=media_id).exists()  # a preview keeps the draft
    assert Publication.objects.get().origin == "preview"
    history = client.get(f"{API}{APPID}/articles").json()["articles"]
    assert history == []  # previews are not in the account's history
    assert (
        call(client, "message/mass/get", token, {"msg_id": answer["msg_id"]})["msg_status"]
        == "SEND_SUCCESS"
    )
    assert sendall(client, token, text("预览后的群发"))["errcode"] == 0  # the quota is intact
    services.unfollow(fans[1])
    for body, errcode in (
        (
            {"touser": "oNobody000000000000000000001", "msgtype": "text", "text": {"content": "x"}},
            40003,
        ),
        ({"touser": fans[1].openid, "msgtype": "text", "text": {"content": "x"}}, 43004),
        ({"towxname": "someone", "msgtype": "text", "text": {"content": "x"}}, 40132),
    ):
        assert call(client, "message/mass/preview", token, body)["errcode"] == errcode
    assert Entry.objects.filter(kind="preview").count() == 1


def test_the_phone_poll_delivers_due_sends(
    client: Client, subscription: Account, frozen: Any
) -> None:
    fans = followers(subscription, 2)
    token = token_for(client)
    sendall(client, token, text("轮询送达"))
    path = f"{API}{APPID}/followers/{fans[0].openid}/conversation"
    assert [e["kind"] for e in client.get(path).json()["entries"]] == ["inbound"]
    frozen.shift(timedelta(seconds=3).total_seconds())
    entries = client.get(path).json()["entries"]
    assert [(e["kind"], e["payload"]) for e in entries][-1] == (
        "mass",
        {"msg_type": "text", "content": "轮询送达"},
    )
    assert timezone.now() > NOON
