"""An independent account server built on wechatpy, run in a thread for the tests.

It plays govwx's role with someone else's code: if wechatpy accepts what the sandbox sends
and the sandbox accepts what wechatpy replies, the sandbox speaks WeChat's protocol.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

TOKEN = "pamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxb11529c136998cb6"

Responder = Callable[[Any], str | None]  # wechatpy message → reply XML (or None = success)


@dataclass
class Received:
    query: dict[str, str]
    body: bytes
    message: Any = None
    error: str = ""


@dataclass
class Peer:
    mode: str = "safe"
    token: str = TOKEN
    aes_key: str = AES_KEY
    appid: str = APPID
    respond: Responder = lambda message: None
    delay: float = 0.0  # seconds to sleep before answering (to miss the deadline)
    raw: bytes | None = None  # answer these bytes instead of a wechatpy reply
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def handle_get(self, query: dict[str, str]) -> tuple[int, bytes]:
        try:
            check_signature(self.token, query["signature"], query["timestamp"], query["nonce"])
        except Exception:
            return 403, b"bad signature"
        return 200, query["echostr"].encode()

    def handle_post(self, query: dict[str, str], body: bytes) -> tuple[int, bytes]:
        record = Received(query, body)
        self.received.append(record)
        try:
            check_signature(self.token, query["signature"], query["timestamp"], query["nonce"])
            if self.mode == "plaintext":
                xml = body.decode()
            else:
                assert query.get("encrypt_type") == "aes"
                crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
                xml = crypto.decrypt_message(
                    body, query["msg_signature"], query["timestamp"], query["nonce"]
                )
            record.message = parse_message(xml)
        except Exception as exc:  # the test inspects record.error
            record.error = repr(exc)
            return 400, b"rejected"
        if self.delay:
            time.sleep(self.delay)
        if self.raw is not None:
            return 200, self.raw
        reply = self.respond(record.message)
        if reply is None:
            return 200, b"success"
        if self.mode != "plaintext":
            crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
            reply = crypto.encrypt_message(reply, query["nonce"], query["timestamp"])
        return 200, reply.encode()


@contextmanager
def serve(peer: Peer) -> Iterator[Peer]:
    """Run `peer` on a free loopback port; peer.url is its callback URL."""

    class Handler(BaseHTTPRequestHandler):
        def _query(self) -> dict[str, str]:
            return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))

        def _answer(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sandbox gave up waiting, as WeChat does

        def do_GET(self) -> None:  # noqa: N802
            self._answer(*peer.handle_get(self._query()))

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self._answer(*peer.handle_post(self._query(), body))

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    peer.url = f"http://127.0.0.1:{server.server_address[1]}/wx/callback"
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
