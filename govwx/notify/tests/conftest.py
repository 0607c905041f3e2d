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
    """A webhook receiver: records each call (headers and body; the path in `paths`);
    answers the next of `statuses`, a status or (status, headers) (the last one repeats).
    `down()` closes its port (connection refused), `up()` opens it again; while `gate` is
    an unset Event, answers wait for it."""

    url: str = ""
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    statuses: list[int | tuple[int, dict[str, str]]] = field(default_factory=lambda: [204])
    gate: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    server: ThreadingHTTPServer | None = None

    def answer(self) -> tuple[int, dict[str, str]]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return status if isinstance(status, tuple) else (status, {})

    def up(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                state.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                state.paths.append(self.path)
                state.arrived.set()
                if state.gate is not None:
                    state.gate.wait(timeout=20)
                status, headers = state.answer()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/hooks/govwx"

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()
    state.up()
    try:
        yield state
    finally:
        if state.gate is not None:
            state.gate.set()
        state.down()


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
