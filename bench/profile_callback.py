"""Where the time of one callback goes, in-process (no HTTP server, no client).

    .venv/bin/python bench/profile_callback.py --rules /path/to/bench/data/rules_K1000.json \
        --messages /path/to/bench/data/messages.jsonl [--n 5000] [--profile]

Sets up a scratch SQLite database (or GOVWX_DATABASE_URL), registers the workload's
account and rules, then feeds the workload's signed, encrypted requests straight into the
WSGI application and reports µs per message (and, with --profile, the top functions).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", required=True)
    ap.add_argument("--messages", required=True)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="govwx-prof-")
    os.environ.setdefault("GOVWX_DATA_DIR", scratch)
    os.environ["GOVWX_WECHAT_TIMESTAMP_WINDOW"] = "2000000000"
    rules = json.loads(Path(args.rules).read_text(encoding="utf-8"))
    govwx = [sys.executable, "-m", "govwx"]
    subprocess.run([*govwx, "migrate", "-v0"], check=True)
    subprocess.run(
        [
            *govwx,
            "account",
            "add",
            "--name",
            "bench",
            "--appid",
            rules["appid"],
            "--secret",
            "x",
            "--token",
            rules["token"],
            "--aes-key",
            rules["aes_key"],
            "--mode",
            "safe",
            "--original-id",
            rules["account"],
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [*govwx, "rules", "import", "--account", rules["appid"], args.rules],
        check=True,
        stdout=subprocess.DEVNULL,
    )

    from govwx.wsgi import application

    msgs = []
    with open(args.messages, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= args.n:
                break
            msgs.append(json.loads(line))
    key = next(k for k in ("path", "url", "query") if k in msgs[0])

    def environ(m: dict) -> dict:
        q = m[key].split("?", 1)[1] if "?" in m[key] else m[key]
        body = m["body"].encode()
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": f"/wx/{rules['appid']}/callback",
            "QUERY_STRING": q,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "text/xml",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
        }

    def start_response(status: str, headers: list) -> None:
        assert status.startswith("200"), status

    def run(batch: list[dict]) -> float:
        t = time.perf_counter()
        for m in batch:
            b"".join(application(environ(m), start_response))
        return (time.perf_counter() - t) / len(batch) * 1e6

    run(msgs[:200])  # warm-up: compile the matcher, open the connection
    msgs = msgs[200:]  # never seen: every message is a first delivery
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        us = run(msgs)
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(25)
        print(s.getvalue())
    else:
        us = run(msgs)
    print(f"{us:.1f} us/message over {len(msgs)} first deliveries")


if __name__ == "__main__":
    main()
