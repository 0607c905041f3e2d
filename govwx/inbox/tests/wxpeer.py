"""A WeChat-platform peer for tests, built on wechatpy (an independent implementation)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from wechatpy.crypto import WeChatCrypto

from govwx.conftest import AES_KEY, APPID, ORIGINAL_ID, TOKEN
from govwx.wechat import protocol as wx


def sign(*parts: str) -> str:
    import hashlib

    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def text_xml(
    content: str, *, openid: str = "oUser1", msg_id: int = 1001, create_time: int | None = None
) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(
    event: str, *, openid: str = "oUser1", key: str = "", create_time: int | None = None
) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


class Peer:
    """Builds signed (and, per mode, encrypted) callbacks and reads replies."""

    def __init__(
        self,
        client: Any,
        *,
        mode: str = "safe",
        appid: str = APPID,
        token: str = TOKEN,
        aes_key: str = AES_KEY,
    ) -> None:
        self.client, self.mode, self.appid, self.token = client, mode, appid, token
        self.crypto = WeChatCrypto(token, aes_key, appid)

    def url(self, query: dict[str, str]) -> str:
        return f"/wx/{self.appid}/callback?{urlencode(query)}"

    def build(
        self, xml: str, *, timestamp: str | None = None, nonce: str = "n0nce"
    ) -> tuple[dict[str, str], bytes]:
        ts = timestamp or str(int(time.time()))
        q = {
            "signature": sign(self.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": "oUser1",
        }
        if self.mode == "plaintext":
            return q, xml.encode()
        env = wx.parse_xml(self.crypto.encrypt_message(xml, nonce, ts).encode())
        q.update(encrypt_type="aes", msg_signature=env["MsgSignature"])
        if self.mode == "safe":
            body = (
                f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
                f"<Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>"
            )
        else:  # compatible: the plaintext fields and Encrypt
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>")
        return q, body.encode()

    def post(self, xml: str, **kw: Any) -> Any:
        q, body = self.build(xml, **kw)
        return self.client.post(self.url(q), data=body, content_type="text/xml")

    def reply(self, response: Any) -> dict[str, Any] | None:
        """The decrypted, parsed reply, or None for `success`/empty."""
        assert response.status_code == 200, response.content
        if response.content in (b"", b"success"):
            return None
        if self.mode == "plaintext":
            return wx.parse_xml(response.content)
        env = wx.parse_xml(response.content)
        plain = self.crypto.decrypt_message(
            response.content.decode(), env["MsgSignature"], env["TimeStamp"], env["Nonce"]
        )
        return wx.parse_xml(plain.encode())
