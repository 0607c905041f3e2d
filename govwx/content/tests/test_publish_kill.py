"""A real kill -9 of the publishing worker between freepublish/submit and WeChat's event.

The worker is the task worker `govwx serve` runs (`govwx db_worker`), a separate process
on the test database, publishing an approved article to the sandbox (served by the live
server, its PUBLISHJOBFINISH pushed to govwx's real callback) through a small proxy. The
proxy SIGKILLs the worker right after the sandbox answered the submit: before the worker
reads the answer (it never learns its publish_id), or once it has stored it. A second
worker is started; the article is found and recorded published once, with one publish
job at the sandbox. The check the first worker queued at its claim for a minute later is
brought forward to now (the minute passing), so that the test takes seconds."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import close_old_connections, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govwx.accounts.models import Account, AuditEvent
from govwx.content import publishing
from govwx.content.models import Article, Step
from govwx.desk.tests.test_burst import database_url
from govwx.wechat.client import WeChatClient
from govwx.wechat.models import InboundMessage
from govwx.wechat.tests.test_client import Sandbox

from .test_publishing import approved, fresh, history, published, wx  # noqa: F401  (wx: a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

S = Article.Status
SUBMIT = "/cgi-bin/freepublish/submit"


class Proxy(http.server.ThreadingHTTPServer):
    """Passes govwx's WeChat calls to the sandbox; when the sandbox has answered a
    submit, calls `on_submit(answer)`, and relays the answer only if it returns True."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.upstream = upstream
        self.on_submit: Callable[[bytes], bool] = lambda answer: True
        self.submits: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    server: Proxy

    def log_message(self, *args: Any) -> None:
        pass

    def _pass(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() == "content-type"}
        request = urllib.request.Request(
            self.server.upstream + self.path, data=body, method=self.command, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, kind, data = answer.status, answer.headers["Content-Type"], answer.read()
        except urllib.error.HTTPError as exc:
            status, kind, data = exc.code, exc.headers["Content-Type"], exc.read()
        if self.path.startswith(SUBMIT):
            self.server.submits.append(data)
            if not self.server.on_submit(data):
                self.close_connection = True
                return  # the worker is dead: nobody reads an answer
        self.send_response(status)
        self.send_header("Content-Type", kind or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _pass


@pytest.fixture
def proxy(wx: Sandbox) -> Iterator[Proxy]:  # noqa: F811
    server = Proxy(wx.base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker(
    proxy: Proxy, live_server: Any, settings: Any
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start `govwx db_worker` processes on the test database, their WeChat at the proxy
    (stopped at the end)."""
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govwx.settings",
        "GOVWX_DATABASE_URL": database_url(),
        "GOVWX_WECHAT_API_BASE": proxy.url,
        "GOVWX_PUBLIC_URL": live_server.url,
        "GOVWX_MEDIA_DIR": str(settings.STORAGES["media"]["OPTIONS"]["location"]),
    }
    env.pop("GOVWX_TASKS_IMMEDIATE", None)
    env.pop("GOVWX_SANDBOX", None)

    def start() -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "govwx", "db_worker", "--interval", "0.1"]
        proc = subprocess.Popen([*cmd, "--no-startup-delay", "--no-reload"], env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def queued(settings: Any) -> None:
    """Tasks go to the database's queue, as in production (the tests run them at once)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # the sandbox ends a publish job this long after its submit
    settings.GOVWX_SANDBOX_PUBLISH_SECONDS = 0.5


def wait_until(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        close_old_connections()
        if done():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds:g} s: {what}")


def the_minute_passes() -> int:
    """The checks queued for later run now (what a minute's wait would do)."""
    return DBTaskResult.objects.filter(
        task_path=f"{publishing.check_publishing.module_path}", status="READY"
    ).update(run_after=timezone.now() - timedelta(seconds=1))


def publish_once(account: Account, editor: Any) -> Article:
    a = approved(account, editor)
    publishing.schedule(a)  # outside a transaction: queued at once
    assert DBTaskResult.objects.filter(task_path=publishing.publish_due.module_path).count() == 1
    return a


@pytest.mark.parametrize("killed", ["before it reads the answer", "once it stored it"])
def test_a_worker_killed_after_the_submit_is_found_and_publishes_once(
    killed: str,
    account: Account,
    editor: Any,
    wx: Sandbox,  # noqa: F811
    proxy: Proxy,
    worker: Callable[[], subprocess.Popen[bytes]],
    queued: None,
) -> None:
    first: list[subprocess.Popen[bytes]] = []

    def kill() -> None:
        os.kill(first[0].pid, signal.SIGKILL)
        first[0].wait(timeout=10)

    if killed == "before it reads the answer":

        def before_reading(answer: bytes) -> bool:
            kill()
            return False

        proxy.on_submit = before_reading
    else:

        def stored(pk: int) -> bool:
            with connections["default"].cursor() as cur:
                cur.execute("SELECT publish_id FROM content_article WHERE id = %s", [pk])
                return bool(cur.fetchone()[0])

        def after_storing(answer: bytes) -> bool:
            # relay the answer, then kill the worker as soon as its publish_id is stored
            def watch() -> None:
                try:
                    wait_until(lambda: stored(a.pk), 20, "the publish_id stored")
                    kill()
                finally:
                    connections.close_all()

            threading.Thread(target=watch, daemon=True).start()
            return True

        proxy.on_submit = after_storing

    a = publish_once(account, editor)
    first.append(worker())
    wait_until(lambda: first[0].poll() is not None, 30, "the worker killed after the submit")
    assert first[0].returncode == -signal.SIGKILL
    assert len(proxy.submits) == 1 and b'"publish_id"' in proxy.submits[0]
    a = fresh(a)
    assert a.status == S.PUBLISHING and a.wechat_draft_id
    if killed == "before it reads the answer":
        assert a.publish_id == ""  # the worker never learnt it
    else:
        assert a.publish_id and a.publish_id in proxy.submits[0].decode()
    # WeChat has the job (read through its API: the sandbox is another system)
    job_id = str(json.loads(proxy.submits[0])["publish_id"])
    assert WeChatClient(account).publish_status(job_id)["publish_id"] == job_id
    assert not InboundMessage.objects.filter(event="PUBLISHJOBFINISH").exists()

    # a new worker; the check queued at the claim comes due
    assert the_minute_passes() == 1
    second = worker()
    wait_until(lambda: fresh(a).status == S.PUBLISHED, 30, "the article recorded published")
    a = fresh(a)
    assert a.wechat_article_id == WeChatClient(account).publish_status(job_id)["article_id"]
    assert a.wechat_url.startswith(wx.base + "/s/")
    # the job's event came to govwx's callback and changed nothing more
    wait_until(
        lambda: InboundMessage.objects.filter(event="PUBLISHJOBFINISH").count() == 1,
        10,
        "the event stored",
    )

    # once: one submit, one job, one publication, one publish step and audit event;
    # the next sweep finds nothing to publish
    sweep = publishing.publish_due.enqueue()
    wait_until(
        lambda: DBTaskResult.objects.filter(id=sweep.id, status="SUCCESSFUL").exists(),
        20,
        "the second worker's sweep",
    )
    assert DBTaskResult.objects.get(id=sweep.id).return_value == 0
    assert second.poll() is None
    assert len(proxy.submits) == 1
    assert [p["article_id"] for p in published(account)] == [a.wechat_article_id]
    assert len(history(wx, account)) == 1
    assert Step.objects.filter(article=a, kind=Step.Kind.PUBLISH).count() == 1
    assert AuditEvent.objects.filter(name="article.published").count() == 1
    assert fresh(a).status == S.PUBLISHED
