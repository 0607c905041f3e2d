"""`govwx serve` for real: a server process on a scratch database, a signed and encrypted
callback over TCP, and the fast path's answers."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from govwx.conftest import AES_KEY, APPID, ORIGINAL_ID, TOKEN

from .wxpeer import Peer, text_xml


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_database(data: Path) -> str:
    """A database of the server's own: a SQLite file, or on a PostgreSQL test run a new
    database beside the test database."""
    test_url = os.environ.get("GOVWX_TEST_DATABASE_URL")
    if not test_url:
        return f"sqlite:///{data / 'govwx.sqlite3'}"
    import psycopg

    base, _, name = test_url.rpartition("/")
    serve_name = f"{name}_serve"
    with psycopg.connect(test_url, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{serve_name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{serve_name}"')
    return f"{base}/{serve_name}"


def _stored_replies(url: str, msg_id: int) -> list[str]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            rows = db.execute("SELECT reply FROM wechat_inboundmessage WHERE msg_id = ?", [msg_id])
            return [r[0] for r in rows.fetchall()]
    import psycopg

    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT reply::text FROM wechat_inboundmessage WHERE msg_id = %s", [msg_id]
        )
        return [r[0] for r in rows.fetchall()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("serve")
    database = _server_database(data)
    env = dict(
        os.environ,
        GOVWX_DATA_DIR=str(data),
        DJANGO_SETTINGS_MODULE="govwx.settings",
        GOVWX_DATABASE_URL=database,
    )
    govwx = [sys.executable, "-m", "govwx"]
    subprocess.run([*govwx, "migrate", "-v0"], env=env, check=True)
    subprocess.run(
        [
            *govwx,
            "account",
            "add",
            "--name",
            "t",
            "--appid",
            APPID,
            "--secret",
            "s",
            "--token",
            TOKEN,
            "--aes-key",
            AES_KEY,
            "--mode",
            "safe",
            "--original-id",
            ORIGINAL_ID,
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    demo = Path(__file__).resolve().parents[2] / "console" / "demo" / "ruleset.json"
    doc = json.loads(demo.read_text(encoding="utf-8"))
    doc["rules"].append(
        {
            "id": 0,
            "name": "随机",
            "keywords": ["抽签"],
            "replies": [{"kind": "text", "payload": {"content": f"签{i}"}} for i in range(5)],
        }
    )
    rules = data / "rules.json"
    rules.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    subprocess.run(
        [*govwx, "rules", "import", "--account", APPID, str(rules)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = _free_port()
    # TTL 0: every message re-checks the rules version, so a change made by another
    # process is seen by the next message (the one-second TTL is tested in test_runtime).
    proc = subprocess.Popen(
        [*govwx, "serve", "--port", str(port), "--workers", "2", "--no-task-worker"],
        env=dict(env, GOVWX_RULES_TTL="0"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/wx/" + APPID + "/callback", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        yield base, database, env
    finally:
        proc.terminate()
        proc.wait(timeout=15)


class HTTPClient:
    """Just enough of Django's test client's `post` for the Peer, over real HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post(self, url: str, data: bytes, content_type: str) -> object:
        req = urllib.request.Request(
            self.base + url, data=data, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                status, content = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, content = e.code, e.read()
        return type("R", (), {"status_code": status, "content": content})()


def test_it_serves_the_callback_over_http(server: tuple[str, str, dict[str, str]]) -> None:
    peer = Peer(HTTPClient(server[0]))
    reply = peer.reply(peer.post(text_xml("社保卡丢了", msg_id=31)))
    assert reply["Content"].startswith("社保查询")
    again = peer.reply(peer.post(text_xml("社保卡丢了", msg_id=31), nonce="retry"))
    assert again["Content"] == reply["Content"]


def test_bad_requests_get_their_status_over_http(server: tuple[str, str, dict[str, str]]) -> None:
    peer = Peer(HTTPClient(server[0]))
    q, body = peer.build(text_xml("社保"))
    assert (
        peer.client.post(peer.url(dict(q, signature="0" * 40)), body, "text/xml").status_code == 403
    )
    assert peer.client.post(peer.url(q), b"<xml>", "text/xml").status_code == 400
    # A body over 1 MiB is refused from its Content-Length, before it is read.
    host, port = server[0].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            f"POST {peer.url(q)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {1024 * 1024 + 1}\r\n\r\n".encode()
        )
        assert s.recv(100).startswith(b"HTTP/1.1 413")
    other = f"/wx/wx1111111111111111/callback?{peer.url(q).split('?', 1)[1]}"
    assert peer.client.post(other, body, "text/xml").status_code == 404
    assert peer.reply(peer.post(text_xml("你好", msg_id=77)))["Content"].startswith("您好")


def test_concurrent_retries_store_one_row_and_get_one_reply(
    server: tuple[str, str, dict[str, str]],
) -> None:
    """WeChat's retries arriving at once, at both worker processes: the unique
    constraint decides, so a random-reply rule still answers every delivery alike."""
    peer = Peer(HTTPClient(server[0]))
    xml = text_xml("抽签", msg_id=424242, create_time=int(time.time()))
    requests = [peer.build(xml, nonce=f"n{i}") for i in range(12)]
    replies: list[str] = []
    barrier = threading.Barrier(len(requests))

    def send(q: dict[str, str], body: bytes) -> None:
        barrier.wait()
        replies.append(peer.reply(peer.client.post(peer.url(q), body, "text/xml"))["Content"])

    threads = [threading.Thread(target=send, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 12 and len(set(replies)) == 1 and replies[0].startswith("签")
    stored = _stored_replies(server[1], 424242)
    assert len(stored) == 1 and replies[0] in json.loads(stored[0])["data"]["content"]


def test_a_rule_changed_by_another_process_answers_in_every_worker(
    server: tuple[str, str, dict[str, str]],
) -> None:
    peer = Peer(HTTPClient(server[0]))
    code = (
        "from govwx.accounts.models import Account\n"
        "from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule\n"
        "create_rule(Account.objects.get(), RuleInput('夜市', [KeywordInput('夜市')], "
        "[ReplyInput('text', {'content': '夜市开放时间：18:00—23:00'})], priority=0))\n"
    )
    before = peer.post(text_xml("夜市几点开", msg_id=900))
    assert before.content == b"success" or "夜市开放" not in peer.reply(before)["Content"]
    subprocess.run([sys.executable, "-m", "govwx", "shell", "-c", code], env=server[2], check=True)
    # new connections: both worker processes answer some of them
    answers = {
        peer.reply(peer.post(text_xml("夜市几点开", msg_id=901 + i)))["Content"] for i in range(8)
    }
    assert answers == {"夜市开放时间：18:00—23:00"}
