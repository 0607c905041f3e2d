"""A mass send by OpenID list to 1,000,000 followers, on PostgreSQL, through a worker
killed with SIGKILL halfway.

    GOVWX_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/govwx_massbench \\
        .venv/bin/python bench/mass_bench.py [--followers 1000000] [--kill-after 50]

1. Creates that database (dropped first), migrates it, and a verified service account
   with an operator.
2. Creates the send in-process, as the mass page does (`mass.create`: a text to a list of
   OpenIDs), and times it until every call is queued: one `MassCall` row per
   message/mass/send call, at most 10,000 OpenIDs each, each with its clientmsgid.
3. Serves WeChat's message/mass/send on 127.0.0.1 with a recorder that answers as WeChat
   does and keeps every call it took, with its clientmsgid and OpenIDs: 2 to 10,000
   OpenIDs (40130, 40032), a clientmsgid of at most 64 bytes (45067), the same
   clientmsgid again within 24 hours refused — 45066 within a minute, then 45065 with the
   first call's msg_id —, at most 60 calls a minute (45011: WeChat says "60 次/分钟" and
   not which code it answers).
4. Runs the real worker, `govwx desk run` (its chore `content.mass_due` is
   `mass.send_due`), as a separate process pointed at the recorder; when the recorder
   has taken the `--kill-after`-th call it SIGKILLs the worker before answering (WeChat
   made the call, the worker never learns it), and starts a new one at once.
5. Waits until every call is made and checks, from the recorder's record: every OpenID
   received the message exactly once, no clientmsgid was taken twice, the repeat of the
   call cut off was refused (and recorded by govwx as made); and from govwx's rows: the
   send SENT, every call CALLED with the msg_id WeChat gave it. Prints JSON.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from typing import Any

LIMIT_PER_MINUTE = 60
REPEAT_WINDOW, RETRY_WINDOW = 24 * 3600, 60
TOKEN = "bench-access-token"


class Recorder(http.server.ThreadingHTTPServer):
    """WeChat's message/mass/send as far as a list send needs it, with a record."""

    daemon_threads = True

    def __init__(self, kill_after: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.kill_after = kill_after
        self.worker_pid = 0
        self.killed_at: float | None = None
        self.taken: dict[str, dict[str, Any]] = {}  # clientmsgid → the call WeChat made
        self.refused: Counter[int] = Counter()  # errcode → how many
        self.requests: list[float] = []  # when each send arrived (the per-minute limit)
        self.next_msg_id = 3_147_483_648
        self.killed = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """WeChat's answer, and whether the worker is to be killed instead of answered."""
        now = time.time()
        with self.lock:
            self.requests.append(now)
            if sum(1 for t in self.requests if t > now - 60) > LIMIT_PER_MINUTE:
                return self.refuse(45011, "api minute-quota reach limit"), False
            touser = body.get("touser")
            if not isinstance(touser, list) or len(set(touser)) < 2:
                return self.refuse(40130, "invalid openid list size, at least two openid"), False
            if len(set(touser)) > 10_000:
                return self.refuse(40032, "invalid openid list size"), False
            client = body.get("clientmsgid")
            if not isinstance(client, str) or not client:
                return self.refuse(47001, "the recorder wants a clientmsgid"), False
            if len(client.encode()) > 64:
                return self.refuse(45067, "clientmsgid size out of limit"), False
            earlier = self.taken.get(client)
            if earlier is not None and now - earlier["at"] < REPEAT_WINDOW:
                if now - earlier["at"] < RETRY_WINDOW:
                    return self.refuse(45066, "clientmsgid retry too fast"), False
                answer = self.refuse(45065, "clientmsgid exist")
                answer["msg_id"] = earlier["msg_id"]
                return answer, False
            self.next_msg_id += 1
            self.taken[client] = {
                "msg_id": self.next_msg_id,
                "openids": touser,
                "at": now,
                "pid": self.worker_pid,
            }
            kill = len(self.taken) == self.kill_after and self.killed_at is None
            if kill:
                self.killed_at = now
            return {
                "errcode": 0,
                "errmsg": "send job submission success",
                "msg_id": self.next_msg_id,
            }, kill

    def refuse(self, errcode: int, errmsg: str) -> dict[str, Any]:
        self.refused[errcode] += 1
        return {"errcode": errcode, "errmsg": errmsg}


class Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path == "/cgi-bin/stable_token":
            return self.send({"access_token": TOKEN, "expires_in": 7200})
        if urllib.parse.parse_qs(url.query).get("access_token") != [TOKEN]:
            return self.send({"errcode": 40001, "errmsg": "invalid credential"})
        if url.path != "/cgi-bin/message/mass/send":
            return self.send({"errcode": 48001, "errmsg": "api unauthorized (recorder)"})
        answer, kill = self.server.answer(json.loads(raw))
        if kill:
            # the call is made; the worker dies before it reads the answer
            os.kill(self.server.worker_pid, signal.SIGKILL)
            self.server.killed.set()
            self.close_connection = True
            return
        self.send(answer)

    def send(self, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--followers", type=int, default=1_000_000)
    ap.add_argument("--kill-after", type=int, default=0, help="default: half of the calls")
    ap.add_argument("--no-kill", action="store_true", help="one worker, never killed")
    ap.add_argument("--timeout", type=float, default=900, help="seconds for the whole send")
    a = ap.parse_args()
    url = os.environ.get("GOVWX_BENCH_DATABASE_URL") or os.environ.get(
        "GOVWX_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govwx_massbench"
    )
    os.environ["GOVWX_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")
    os.environ.pop("GOVWX_TASKS_IMMEDIATE", None)  # create() queues its task, as it does live
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "-m", "govwx", "migrate", "-v0"], check=True)
    subprocess.run(
        [sys.executable, "-m", "govwx", "createcachetable"], check=True, stdout=subprocess.DEVNULL
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from govwx.accounts.models import Account, Membership
    from govwx.accounts.services import AccountInput, add_member, create_account
    from govwx.content import mass
    from govwx.content.models import MassCall, MassSend

    account = create_account(
        AccountInput(
            name="示例市政务服务",
            appid="wx00000000000a5500",
            app_secret="s",
            token="token123",
            aes_key="a" * 43,
            mode="safe",
            kind=Account.Kind.SERVICE,
        )
    )
    operator = get_user_model().objects.create_user("operator")
    add_member(account, operator, Membership.Role.OPERATOR)
    openids = [f"oBench{i:022d}" for i in range(a.followers)]  # 28 characters, as WeChat's

    t0 = time.perf_counter()
    send = mass.create(
        account,
        kind=MassSend.Kind.TEXT,
        actor=operator,
        text="【示例市政务服务】12月6日9时至17时东湖片区停水，请提前储水。",
        openids=openids,
    )
    queued_s = time.perf_counter() - t0
    calls = MassCall.objects.filter(mass_send=send).count()
    kill_after = 0 if a.no_kill else (a.kill_after or calls // 2)
    out: dict[str, Any] = {
        "followers": a.followers,
        "calls": calls,
        "openids_per_call_max": mass.LIST_MAX,
        "queued_s": round(queued_s, 2),
        "kill_after_call": kill_after,
    }
    print(json.dumps({"queued": out}), file=sys.stderr, flush=True)

    recorder = Recorder(kill_after)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    env = {**os.environ, "GOVWX_WECHAT_API_BASE": recorder.url}

    def worker() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govwx", "desk", "run", "--interval", "0.5",
             "--sweep-every", "3600", "--surge-every", "3600"],
            env=env,
        )  # fmt: skip
        recorder.worker_pid = proc.pid
        return proc

    started = time.time()
    first = worker()
    if kill_after:
        if not recorder.killed.wait(a.timeout):
            first.kill()
            raise SystemExit("the worker never reached the call to be killed at")
        first.wait(timeout=30)
        second = worker()
    else:
        second = first
    killed_at = recorder.killed_at or started
    try:
        deadline = time.monotonic() + a.timeout
        while time.monotonic() < deadline:
            done = MassSend.objects.filter(pk=send.pk, status=MassSend.Status.SENT).exists()
            if done:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("the send did not finish in time")
    finally:
        second.terminate()
        second.wait(timeout=30)
    finished = time.time()

    # the proof, from what WeChat was asked and took
    taken = recorder.taken
    received: Counter[str] = Counter()
    for call in taken.values():
        received.update(call["openids"])
    everyone = set(openids)
    first_calls = [c for c in taken.values() if c["pid"] == first.pid and kill_after]
    resumed = [c for c in taken.values() if c["pid"] == second.pid]
    asked = sorted(recorder.requests)
    busiest = max((sum(1 for t in asked[i:] if t < s + 60) for i, s in enumerate(asked)), default=0)
    rows = {c.clientmsgid: c for c in MassCall.objects.filter(mass_send=send)}
    runs: dict[str, Any]
    if kill_after:
        runs = {
            "calls_before_the_kill": len(first_calls),
            "first_worker_s": round(killed_at - started, 1),
            "kill_to_resumed_s": round(min(c["at"] for c in resumed) - killed_at, 1),
            "calls_after_the_restart": len(resumed),
            "resumed_calls_s": round(
                max(c["at"] for c in resumed) - min(c["at"] for c in resumed), 1
            ),
        }
    else:
        runs = {
            "first_call_s": round(min(c["at"] for c in resumed) - started, 1),
            "calls_s": round(max(c["at"] for c in resumed) - min(c["at"] for c in resumed), 1),
        }
    out.update(
        {
            "wechat": "a local HTTP server recording every call (not the sandbox)",
            "worker": "govwx desk run (its chore content.mass_due), a separate process",
            **runs,
            "total_s": round(finished - started, 1),
            "calls_taken": len(taken),
            "refused": {str(k): v for k, v in sorted(recorder.refused.items())},
            # the cut-off call, made again after the restart and refused as WeChat does
            "repeats_refused": recorder.refused[45065] + recorder.refused[45066],
            "most_calls_in_a_minute": busiest,
            "followers_reached": len(received),
            "followers_missed": len(everyone - set(received)),
            "followers_twice": sum(1 for n in received.values() if n > 1),
            "strangers": len(set(received) - everyone),
            "govwx_send_status": MassSend.objects.get(pk=send.pk).status,
            "govwx_calls_called": sum(1 for c in rows.values() if c.status == "called"),
            "govwx_msg_ids_match": set(taken) == set(rows)
            and all(str(taken[k]["msg_id"]) == rows[k].msg_id for k in taken),
            "govwx_openids_match": all(taken[k]["openids"] == rows[k].openids for k in taken),
        }
    )
    print(json.dumps(out, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
