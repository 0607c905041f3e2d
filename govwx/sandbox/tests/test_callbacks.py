"""The sandbox's callbacks against a real HTTP server whose protocol side is wechatpy."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from wechatpy.replies import ArticlesReply, TextReply, TransferCustomerServiceReply, create_reply

from govwx.sandbox import callbacks, services
from govwx.sandbox.crypto import MessageCrypto
from govwx.sandbox.models import Account, Entry, Follower

from .conftest import ORIGINAL_ID, register
from .peer import AES_KEY, APPID, TOKEN, Peer, serve

pytestmark = pytest.mark.django_db
OPENID = "oCallback000000000000000000A"


def api(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(
        f"/sandbox/api/accounts/{APPID}/followers/{OPENID}/{path}",
        body or {},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def setup(peer: Peer, mode: str) -> Follower:
    account = register(peer.url, mode=mode)
    follower = services.create_follower(account, OPENID, "小李")
    return follower


def echo(message: Any) -> str:
    if message.type == "text":
        return create_reply("收到：" + message.content, message).render()
    if message.type == "event" and message.event == "subscribe":
        return create_reply("欢迎关注", message).render()
    return None  # type: ignore[return-value]


@pytest.mark.parametrize("mode", ["safe", "compatible", "plaintext"])
def test_wechatpy_accepts_our_callbacks_and_we_accept_its_replies(
    client: Client, mode: str
) -> None:
    with serve(Peer(mode=mode, respond=echo)) as peer:
        setup(peer, mode)
        followed = api(client, "follow")
        assert followed["status"] == 200
        assert followed["reply"] == {"msg_type": "text", "content": "欢迎关注"}
        result = api(client, "messages", {"type": "text", "content": "我是中文abcd123 <&>"})
    assert result["status"] == 200
    assert result["attempts"] == 1
    assert result["error"] is None
    assert result["reply"] == {"msg_type": "text", "content": "收到：我是中文abcd123 <&>"}
    assert [r.error for r in peer.received] == ["", ""]
    message = peer.received[1].message
    assert (message.type, message.source, message.target) == ("text", OPENID, ORIGINAL_ID)
    assert message.content == "我是中文abcd123 <&>"
    assert 10**18 <= message.id < 2**63
    query = peer.received[1].query
    assert query["openid"] == OPENID
    assert ("encrypt_type" in query, "msg_signature" in query) == ((mode != "plaintext"),) * 2
    body = peer.received[1].body.decode()
    assert ("<Encrypt>" in body) == (mode != "plaintext")
    assert ("<Content>" in body) == (mode != "safe")  # compatible mode carries both
    entries = list(Entry.objects.order_by("id").values_list("kind", "msg_type"))
    assert entries == [
        ("inbound", "subscribe"),
        ("reply", "text"),
        ("inbound", "text"),
        ("reply", "text"),
    ]


def test_it_sends_events_and_other_messages(client: Client) -> None:
    with serve(Peer(mode="safe")) as peer:
        setup(peer, "safe")
        api(client, "follow", {"scene": "1001"})
        api(client, "messages", {"type": "click", "key": "TODAY"})
        api(client, "messages", {"type": "view", "url": "https://example.gov.cn/"})
        api(client, "messages", {"type": "image", "pic_url": "https://example.gov.cn/a.jpg"})
        api(
            client,
            "messages",
            {"type": "location", "x": 34.26, "y": 108.94, "scale": 16, "label": "西安"},
        )
        api(client, "messages", {"type": "scancode_waitmsg", "key": "SCAN", "scan_result": "hello"})
        api(client, "unfollow")
    got = [r.message for r in peer.received]
    assert [r.error for r in peer.received] == [""] * 7
    assert (got[0].event, got[0].scene_id, bool(got[0].ticket)) == ("subscribe_scan", "1001", True)
    assert (got[1].event, got[1].key) == ("click", "TODAY")
    assert (got[2].event, got[2].url) == ("view", "https://example.gov.cn/")
    assert (got[3].type, got[3].image) == ("image", "https://example.gov.cn/a.jpg")
    assert (got[4].type, got[4].location, got[4].scale, got[4].label) == (
        "location",
        ("34.26", "108.94"),
        "16",
        "西安",
    )
    assert (got[5].event, got[5].scan_result) == ("scancode_waitmsg", "hello")
    assert got[6].event == "unsubscribe"
    follower = Follower.objects.get()
    assert (follower.subscribed, follower.subscribe_scene, follower.qr_scene_str) == (
        False,
        "ADD_SCENE_QR_CODE",
        "1001",
    )


def test_a_news_reply_to_a_message_shows_one_article_and_to_an_event_up_to_eight() -> None:
    def news(message: Any) -> str:
        articles = [
            {
                "title": f"标题{i}",
                "description": "说明",
                "image": f"https://x.cn/{i}.png",
                "url": f"https://x.cn/{i}",
            }
            for i in range(10)
        ]
        return ArticlesReply(message=message, articles=articles).render()

    with serve(Peer(mode="safe", respond=news)) as peer:
        follower = setup(peer, "safe")
        _, subscribed = services.follow(follower)
        _, answered = services.act(follower, "text", {"content": "办事"})
    assert subscribed.reply is not None and len(subscribed.reply["articles"]) == 8
    assert answered.reply == {
        "msg_type": "news",
        "articles": [
            {
                "title": "标题0",
                "description": "说明",
                "pic_url": "https://x.cn/0.png",
                "url": "https://x.cn/0",
            }
        ],
    }


def test_it_reads_transfer_to_customer_service() -> None:
    with serve(
        Peer(mode="compatible", respond=lambda m: TransferCustomerServiceReply(message=m).render())
    ) as peer:
        follower = setup(peer, "compatible")
        services.follow(follower)
        _, delivery = services.act(follower, "text", {"content": "人工"})
    assert delivery.reply == {"msg_type": "transfer_customer_service", "kf_account": ""}


def test_a_slow_server_gets_three_attempts_with_the_same_msgid() -> None:
    with serve(Peer(mode="safe", delay=0.5, respond=echo)) as peer:
        follower = setup(peer, "safe")
        follower.subscribed = True
        follower.save()
        entry, delivery = services.act(follower, "text", {"content": "在吗"}, timeout=0.2)
    assert delivery.attempts == 3
    assert delivery.status is None
    assert delivery.error == "timeout after 0.2 s"
    assert delivery.reply is None
    ids = {(r.message.id, r.message.create_time) for r in peer.received}
    assert len(peer.received) == 3 and len(ids) == 1
    entry.refresh_from_db()
    assert entry.delivery["msg_id"] == peer.received[0].message.id
    assert entry.delivery["attempts"] == 3
    assert [a["error"] for a in entry.delivery["log"]] == ["timeout after 0.2 s"] * 3
    assert not Entry.objects.filter(kind=Entry.Kind.REPLY).exists()


def test_the_timeout_is_a_setting(settings: Any) -> None:
    settings.GOVWX_SANDBOX_CALLBACK_TIMEOUT = 0.2
    with serve(Peer(mode="plaintext", delay=0.5)) as peer:
        follower = setup(peer, "plaintext")
        _, delivery = services.follow(follower)
    assert (delivery.attempts, delivery.error) == (3, "timeout after 0.2 s")


@pytest.mark.parametrize(
    ("mode", "raw", "error"),
    [
        ("plaintext", b'{"json": true}', "reply is not valid XML"),
        (
            "plaintext",
            b'<!DOCTYPE x [<!ENTITY a "b">]><xml/>',
            "reply is not valid XML: DTDs and entities are not allowed",
        ),
        (
            "safe",
            f"<xml><ToUserName>{OPENID}</ToUserName><FromUserName>{ORIGINAL_ID}</FromUserName><MsgType>text</MsgType><Content>x</Content></xml>".encode(),
            "plaintext reply in safe mode",
        ),
        (
            "plaintext",
            f"<xml><ToUserName>someone</ToUserName><FromUserName>{ORIGINAL_ID}</FromUserName><MsgType>text</MsgType><Content>x</Content></xml>".encode(),
            "reply ToUserName is not the follower's OpenID",
        ),
        (
            "plaintext",
            f"<xml><ToUserName>{OPENID}</ToUserName><FromUserName>{ORIGINAL_ID}</FromUserName><MsgType>hologram</MsgType></xml>".encode(),
            "unknown reply MsgType 'hologram'",
        ),
    ],
)
def test_it_refuses_replies_wechat_would_not_show(mode: str, raw: bytes, error: str) -> None:
    with serve(Peer(mode=mode, raw=raw)) as peer:
        follower = setup(peer, mode)
        _, delivery = services.follow(follower)
    assert delivery.error is not None and delivery.error.startswith(error)
    assert delivery.attempts == 3  # WeChat retries an unusable answer
    assert not Entry.objects.filter(kind=Entry.Kind.REPLY).exists()


def test_it_refuses_an_encrypted_reply_with_a_bad_signature() -> None:
    inner = TextReply(source=ORIGINAL_ID, target=OPENID, content="x").render()
    encrypted = MessageCrypto(TOKEN, AES_KEY, APPID).encrypt(inner)
    raw = f"<xml><Encrypt>{encrypted}</Encrypt><MsgSignature>{'0' * 40}</MsgSignature><TimeStamp>1</TimeStamp><Nonce>2</Nonce></xml>"
    with serve(Peer(mode="safe", raw=raw.encode())) as peer:
        follower = setup(peer, "safe")
        _, delivery = services.follow(follower)
    assert delivery.error == "reply MsgSignature does not match"


def test_empty_and_success_mean_no_reply() -> None:
    for raw in (b"", b"success"):
        with serve(Peer(mode="plaintext", raw=raw)) as peer:
            target = callbacks.Target(APPID, TOKEN, AES_KEY, "plaintext", ORIGINAL_ID, peer.url)
            _, fields = callbacks.message_fields(
                "text", {"content": "x"}, to=ORIGINAL_ID, openid=OPENID, create_time=1, msg_id=1
            )
            delivery = callbacks.deliver(
                target, "text", fields, openid=OPENID, create_time=1, msg_type="text"
            )
        assert (delivery.status, delivery.reply, delivery.error, delivery.attempts) == (
            200,
            None,
            None,
            1,
        )


def test_an_unreachable_server_is_reported() -> None:
    target = callbacks.Target(APPID, TOKEN, AES_KEY, "safe", ORIGINAL_ID, "http://127.0.0.1:9/wx")
    _, fields = callbacks.message_fields(
        "text", {"content": "x"}, to=ORIGINAL_ID, openid=OPENID, create_time=1, msg_id=1
    )
    delivery = callbacks.deliver(
        target, "text", fields, openid=OPENID, create_time=1, msg_type="text", timeout=1
    )
    assert delivery.attempts == 3
    assert delivery.error is not None and delivery.error.startswith("connection failed")


def test_registration_with_verify_checks_the_echo(client: Client) -> None:
    body = {
        "name": "示例",
        "appid": APPID,
        "secret": "s",
        "token": TOKEN,
        "aes_key": AES_KEY,
        "mode": "safe",
        "verify": True,
    }
    with serve(Peer(mode="safe")) as peer:
        ok = client.post(
            "/sandbox/api/accounts",
            {**body, "callback_url": peer.url},
            content_type="application/json",
        )
    assert ok.status_code == 201
    with serve(Peer(mode="safe", token="othertoken")) as peer:
        bad = client.post(
            "/sandbox/api/accounts",
            {**body, "name": "改名", "callback_url": peer.url},
            content_type="application/json",
        )
    assert bad.status_code == 400
    assert bad.json() == {"error": "URL verification failed: HTTP 403"}
    assert Account.objects.get().name == "示例"  # nothing changed
