"""Real peers for the channels: an SMTP server (aiosmtpd), an HTTP server that records
webhook calls, and the sandbox's WeCom group robot on the live server."""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from govwx.accounts.models import Account
from govwx.notify.models import Channel
from govwx.notify.services import ChannelInput, create_channel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping every message; RCPT to refused@… gets 550."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "govwx@example.gov.cn"
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Hook:
    """A webhook receiver: records each call; answers the next status of `statuses`
    (the last one repeats)."""

    url: str = ""
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=lambda: [204])

    def answer(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.answer())
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/govwx"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class RobotDriver:
    """The sandbox's driver API for group robots, over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def _call(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def robot(self, name: str, **settings: Any) -> dict[str, Any]:
        return dict(self._call("/api/robots", {"name": name, **settings}))

    def messages(self, key: str) -> list[dict[str, Any]]:
        return list(self._call(f"/api/robots/{key}/messages")["messages"])


@pytest.fixture
def robots(live_server: Any) -> RobotDriver:
    return RobotDriver(live_server.url + "/sandbox")


def make_channel(account: Account, actor: Any, kind: str, target: str, **extra: Any) -> Channel:
    return create_channel(
        account,
        ChannelInput(kind=kind, name=extra.pop("name", kind), target=target, **extra),
        actor=actor,
    )
