from __future__ import annotations

import base64

import pytest
from wechatpy.crypto import WeChatCrypto

from govwx.sandbox.crypto import CryptoError, MessageCrypto, decode_key, signature, unpad
from govwx.sandbox.xmltools import XMLError, document, parse

TOKEN, KEY, APPID = "pamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6"
A1 = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
crypto = MessageCrypto(TOKEN, KEY, APPID)


def test_it_derives_the_official_key() -> None:
    assert (
        decode_key(KEY).hex() == "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051"
    )


def test_it_reproduces_official_vector_a1() -> None:
    encrypted = crypto.encrypt("我是中文abcd123", random=b"aaaabbbbccccdddd")
    assert encrypted == A1
    assert crypto.decrypt(A1) == "我是中文abcd123"
    assert (
        crypto.msg_signature("1409304348", "xxxxxx", A1)
        == "82c962d39941aa48552f90ef55aa323dc620cc10"
    )
    assert signature(TOKEN, "1409304348", "xxxxxx") == "76480565cbe296026c53aaacd1ad523a1ddba24f"


def test_it_round_trips_with_wechatpy() -> None:
    peer = WeChatCrypto(TOKEN, KEY, APPID)
    xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Content><![CDATA[你好]]></Content></xml>"
    sealed = peer.encrypt_message(xml, "nonce1", "1409304348")
    root = parse(sealed)
    encrypted = root.get("Encrypt")
    assert root.get("MsgSignature") == crypto.msg_signature("1409304348", "nonce1", encrypted)
    assert crypto.decrypt(encrypted) == xml

    ours = crypto.encrypt(xml)
    body = document([("ToUserName", "gh_1"), ("Encrypt", ours)])
    assert peer.decrypt_message(body, crypto.msg_signature("1", "n", ours), "1", "n") == xml


def test_it_pads_to_32_bytes() -> None:
    for size in (0, 1, 31, 32, 33):
        raw = base64.b64decode(crypto.encrypt("x" * size, random=b"0" * 16))
        assert len(raw) % 32 == 0  # 20 header bytes + appid (18) + body, padded to 32


def test_it_refuses_bad_padding_and_foreign_appid() -> None:
    with pytest.raises(CryptoError, match="padding"):
        unpad(b"abc" + bytes([33]))
    with pytest.raises(CryptoError, match="padding"):
        unpad(b"abc\x01\x02")
    other = MessageCrypto(TOKEN, KEY, "wx0000000000000000")
    with pytest.raises(CryptoError, match="AppID"):
        other.decrypt(A1)
    with pytest.raises(CryptoError, match="base64"):
        crypto.decrypt("not base64!")
    with pytest.raises(CryptoError, match="43"):
        decode_key("short")


def test_it_refuses_doctype_and_entities() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><C>&a;</C></xml>'
    with pytest.raises(XMLError, match="not allowed"):
        parse(bomb)
    with pytest.raises(XMLError):
        parse(b"<xml><C>unclosed</xml>")


def test_it_keeps_cdata_terminators_inside_values() -> None:
    xml = document([("Content", "a]]>b<c>&"), ("CreateTime", 1)])
    assert parse(xml).get("Content") == "a]]>b<c>&"
    assert "<CreateTime>1</CreateTime>" in xml
