"""The callback end to end through Django, with wechatpy on the platform's side."""

from __future__ import annotations

import time
from typing import Any

import pytest

from govwx.accounts.models import Account
from govwx.conftest import AES_KEY, APPID, ORIGINAL_ID, TOKEN, make_account
from govwx.replies.models import Reply
from govwx.replies.services import (
    KeywordInput,
    ReplyInput,
    RuleInput,
    create_rule,
    set_trigger_replies,
)
from govwx.wechat.models import Follower, InboundMessage, OutboundMessage
from govwx.wechat.protocol import AESCipher

from .wxpeer import Peer, event_xml, sign, text_xml

pytestmark = pytest.mark.django_db


def _text(s: str) -> list[ReplyInput]:
    return [ReplyInput("text", {"content": s})]


@pytest.fixture
def rules(account: Account) -> Account:
    create_rule(account, RuleInput("社保", [KeywordInput("社保")], _text("社保请拨12333")))
    create_rule(account, RuleInput("人工", [KeywordInput("人工", "exact")], _text("正在转人工")))
    set_trigger_replies(account, Reply.Trigger.FOLLOW, _text("感谢关注示例市发布"))
    set_trigger_replies(account, Reply.Trigger.CLICK, _text("办事指南在此"), click_key="GUIDE")
    return account


@pytest.mark.parametrize("mode", ["safe", "compatible", "plaintext"])
def test_it_answers_a_keyword_in_every_mode(client: Any, mode: str) -> None:
    make_account(mode=mode)
    acct = Account.objects.get()
    create_rule(acct, RuleInput("社保", [KeywordInput("社保")], _text("社保请拨12333")))
    peer = Peer(client, mode=mode)
    reply = peer.reply(peer.post(text_xml("请问社保怎么查")))
    assert reply is not None
    assert reply["Content"] == "社保请拨12333"
    assert reply["ToUserName"] == "oUser1" and reply["FromUserName"] == ORIGINAL_ID
    assert reply["MsgType"] == "text"
    row = InboundMessage.objects.get()
    assert (row.content, row.handled_by, row.msg_type) == ("请问社保怎么查", "rule", "text")


def test_get_verifies_the_url(client: Any, account: Account) -> None:
    ts = str(int(time.time()))
    q = f"signature={sign(TOKEN, ts, 'n')}&timestamp={ts}&nonce=n&echostr=hello123"
    r = client.get(f"/wx/{APPID}/callback?{q}")
    assert (r.status_code, r.content) == (200, b"hello123")
    r = client.get(f"/wx/{APPID}/callback?signature=bad&timestamp={ts}&nonce=n&echostr=x")
    assert r.status_code == 403


def test_follow_click_and_silence(client: Any, rules: Account) -> None:
    peer = Peer(client)
    assert peer.reply(peer.post(event_xml("subscribe", key="qrscene_77")))["Content"] == (
        "感谢关注示例市发布"
    )
    f = Follower.objects.get(openid="oUser1")
    assert f.subscribed and f.scene == "77" and f.subscribed_at is not None
    assert peer.reply(peer.post(event_xml("CLICK", key="GUIDE", create_time=1)))["Content"] == (
        "办事指南在此"
    )
    # unmatched text, no default reply: `success`
    r = peer.post(text_xml("今天天气", msg_id=5))
    assert r.content == b"success"
    assert InboundMessage.objects.get(msg_id=5).handled_by == "desk"
    peer.post(event_xml("unsubscribe", create_time=2))
    f.refresh_from_db()
    assert not f.subscribed and f.unsubscribed_at is not None


def test_default_reply_when_nothing_matches(client: Any, rules: Account) -> None:
    set_trigger_replies(rules, Reply.Trigger.DEFAULT, _text("您的留言已收到"))
    peer = Peer(client)
    assert peer.reply(peer.post(text_xml("今天天气")))["Content"] == "您的留言已收到"
    assert peer.reply(peer.post(text_xml("人工服务", msg_id=2)))["Content"] == "您的留言已收到"
    assert peer.reply(peer.post(text_xml("人工", msg_id=3)))["Content"] == "正在转人工"


def test_retries_get_the_same_reply_and_one_row(client: Any, account: Account) -> None:
    create_rule(
        account,
        RuleInput(
            "随机", [KeywordInput("你好")], _text("答复一") + _text("答复二") + _text("答复三")
        ),
    )
    peer = Peer(client)
    xml = text_xml("你好", msg_id=777, create_time=int(time.time()))
    first = peer.reply(peer.post(xml))["Content"]
    for nonce in ("r1", "r2", "r3"):
        assert peer.reply(peer.post(xml, nonce=nonce))["Content"] == first
    assert InboundMessage.objects.count() == 1
    ev = event_xml("subscribe", create_time=1700000000)
    peer.post(ev)
    peer.post(ev, nonce="again")
    assert InboundMessage.objects.filter(event="subscribe").count() == 1


def test_a_news_reply_to_a_message_carries_one_article(client: Any, account: Account) -> None:
    arts = [{"title": f"指南{i}", "url": f"https://gov.example.cn/{i}"} for i in range(3)]
    create_rule(
        account, RuleInput("图文", [KeywordInput("指南")], [ReplyInput("news", {"articles": arts})])
    )
    set_trigger_replies(account, Reply.Trigger.FOLLOW, [ReplyInput("news", {"articles": arts})])
    peer = Peer(client)
    doc = peer.reply(peer.post(text_xml("办事指南")))
    assert doc["MsgType"] == "news" and doc["ArticleCount"] == "1"
    doc = peer.reply(peer.post(event_xml("subscribe")))
    assert doc["ArticleCount"] == "3" and len(doc["Articles"]["item"]) == 3


def test_image_reply(client: Any, account: Account) -> None:
    create_rule(
        account,
        RuleInput("图", [KeywordInput("二维码")], [ReplyInput("image", {"media_id": "MEDIA1"})]),
    )
    peer = Peer(client)
    doc = peer.reply(peer.post(text_xml("二维码")))
    assert doc["MsgType"] == "image" and doc["Image"]["MediaId"] == "MEDIA1"


def test_reply_all_sends_the_rest_as_customer_messages(
    client: Any,
    account: Account,
    settings: Any,
    cache_table: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    rule = create_rule(
        account,
        RuleInput(
            "全部", [KeywordInput("公积金")], _text("第一条") + _text("第二条"), reply_mode="all"
        ),
    )
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9"  # nothing listens: the send fails
    peer = Peer(client)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert peer.reply(peer.post(text_xml("公积金")))["Content"] == "第一条"
    assert len(callbacks) == 1
    out = OutboundMessage.objects.get()
    assert (out.kind, out.payload, out.openid) == ("text", {"content": "第二条"}, "oUser1")
    assert out.in_reply_to.rule_id == rule.pk
    # the send was attempted once, failed (nothing listens), was recorded, and waits
    # for its next attempt
    assert (out.status, out.attempts) == (OutboundMessage.Status.PENDING, 1)
    assert out.error_message


def test_unknown_types_are_stored_and_answered_success(client: Any, rules: Account) -> None:
    peer = Peer(client)
    xml = text_xml("x", msg_id=9).replace("[text]", "[miniprogrampage]")
    assert peer.post(xml).content == b"success"
    assert InboundMessage.objects.get().msg_type == "miniprogrampage"
    assert peer.post(event_xml("weird_new_event")).content == b"success"
    assert InboundMessage.objects.filter(event="weird_new_event").count() == 1


def test_rule_changes_are_seen_at_once_with_no_ttl(
    client: Any, account: Account, settings: Any
) -> None:
    settings.GOVWX_RULES_TTL = 0
    rule = create_rule(account, RuleInput("社保", [KeywordInput("社保")], _text("旧答复")))
    peer = Peer(client)
    assert peer.reply(peer.post(text_xml("社保", msg_id=1)))["Content"] == "旧答复"
    from govwx.replies.services import update_rule

    update_rule(rule, RuleInput("社保", [KeywordInput("社保")], _text("新答复")))
    assert peer.reply(peer.post(text_xml("社保", msg_id=2)))["Content"] == "新答复"


# ------------------------------------------------------------------ bad input


def _count() -> int:
    return InboundMessage.objects.count() + Follower.objects.count()


@pytest.fixture
def peer(client: Any, rules: Account) -> Peer:
    return Peer(client)


def _post(peer: Peer, q: dict[str, str], body: bytes) -> Any:
    return peer.client.post(peer.url(q), data=body, content_type="text/xml")


def test_bad_or_missing_signature_is_403(peer: Peer) -> None:
    q, body = peer.build(text_xml("社保"))
    assert _post(peer, dict(q, signature="0" * 40), body).status_code == 403
    q.pop("signature")
    assert _post(peer, q, body).status_code == 403
    assert _count() == 0


def test_msg_signature_mismatch_is_403(peer: Peer) -> None:
    q, body = peer.build(text_xml("社保"))
    assert _post(peer, dict(q, msg_signature="0" * 40), body).status_code == 403
    assert _count() == 0


def test_decrypted_appid_of_another_account_is_403(client: Any, rules: Account) -> None:
    # Encrypted with the same key and token but for another AppID.
    other = Peer(client, appid="wx00000000000000ff")
    q, body = other.build(text_xml("社保"))
    r = client.post(
        f"/wx/{APPID}/callback?" + other.url(q).split("?", 1)[1], data=body, content_type="text/xml"
    )
    assert r.status_code == 403
    assert _count() == 0


def test_unknown_appid_is_404(peer: Peer) -> None:
    q, body = peer.build(text_xml("社保"))
    r = peer.client.post(
        "/wx/wx1111111111111111/callback?" + peer.url(q).split("?", 1)[1],
        data=body,
        content_type="text/xml",
    )
    assert r.status_code == 404


def test_malformed_inner_xml_is_400(peer: Peer) -> None:
    q, body = peer.build("<xml><Content>unclosed</xml>")
    assert _post(peer, q, body).status_code == 400
    assert _count() == 0


def test_invalid_utf8_inside_the_encrypted_message_is_400(peer: Peer) -> None:
    ts = str(int(time.time()))
    enc = AESCipher(AES_KEY, APPID).encrypt(b"<xml><FromUserName>\xff\xfe</FromUserName></xml>")
    q = {
        "signature": sign(TOKEN, ts, "n"),
        "timestamp": ts,
        "nonce": "n",
        "encrypt_type": "aes",
        "msg_signature": sign(TOKEN, ts, "n", enc),
    }
    body = f"<xml><Encrypt><![CDATA[{enc}]]></Encrypt></xml>".encode()
    assert _post(peer, q, body).status_code == 400
    assert _count() == 0


def test_malformed_outer_xml_and_invalid_utf8_are_400(client: Any) -> None:
    make_account(mode="plaintext")
    peer = Peer(client, mode="plaintext")
    q, _ = peer.build(text_xml("x"))
    for body in (
        b"<xml><Content>x</Content>",
        b"<xml><Content>\xff\xfe</Content></xml>",
        b"not xml at all",
    ):
        assert _post(peer, q, body).status_code == 400
    assert _count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<xml><ToUserName>&e;</ToUserName></xml>",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 '
        b'"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
        b"<xml><Content>&lol2;</Content></xml>",
    ],
)
def test_doctype_and_entities_are_400_without_expansion(client: Any, body: bytes) -> None:
    make_account(mode="plaintext")
    peer = Peer(client, mode="plaintext")
    q, _ = peer.build(text_xml("x"))
    r = _post(peer, q, body)
    assert r.status_code == 400 and b"lol" not in r.content and b"root:" not in r.content
    assert _count() == 0


def test_body_over_one_mib_is_413(peer: Peer) -> None:
    q, _ = peer.build(text_xml("x"))
    body = b"<xml><Content>" + b"a" * (1024 * 1024) + b"</Content></xml>"
    assert _post(peer, q, body).status_code == 413
    assert _count() == 0


@pytest.mark.parametrize("skew", [-301, 301, 3600])
def test_timestamp_outside_the_window_is_403(peer: Peer, skew: int) -> None:
    r = peer.post(text_xml("社保"), timestamp=str(int(time.time()) + skew))
    assert r.status_code == 403
    assert _count() == 0


def test_the_window_is_configurable(peer: Peer, settings: Any) -> None:
    settings.GOVWX_WECHAT_TIMESTAMP_WINDOW = 4000
    r = peer.post(text_xml("社保"), timestamp=str(int(time.time()) - 3600))
    assert peer.reply(r)["Content"] == "社保请拨12333"


def test_safe_mode_refuses_plaintext(peer: Peer) -> None:
    plain = Peer(peer.client, mode="plaintext")
    assert plain.post(text_xml("社保")).status_code == 403
    assert _count() == 0


def test_the_server_keeps_serving_after_bad_input(peer: Peer) -> None:
    q, _ = peer.build(text_xml("x"))
    _post(peer, q, b"<xml>")
    assert peer.reply(peer.post(text_xml("社保")))["Content"] == "社保请拨12333"
