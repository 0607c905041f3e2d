"""govwx's protocol code on the harness's protocol-floor workload (shared/bench/floor.py):
verify URL signature + msg_signature, decrypt, parse, build and encrypt the reply; no HTTP,
no storage, no matching, one core. Same messages, same checker as floor.py's variants.

    .venv/bin/python bench/protocol_floor.py --bench /path/to/bench [--k 1000] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any


def make_govwx(cfg: dict[str, Any], replies: list[Any]) -> Any:
    from govwx.wechat import protocol as wx

    token = cfg["token"]
    cipher = wx.AESCipher(cfg["aes_key"], cfg["appid"])

    def handle(i: int, q: dict[str, str], body: bytes) -> Any:
        ts, nonce = q["timestamp"], q["nonce"]
        wx.check_signature((token, ts, nonce), q["signature"])
        enc = wx.parse_xml(body)["Encrypt"]
        wx.check_signature((token, ts, nonce, enc), q["msg_signature"])
        msg = wx.to_message(wx.parse_xml(cipher.decrypt(enc)))
        text = replies[i]
        if text is None:
            return b"success"
        xml = wx.render_reply(
            wx.Reply("text", {"content": text}),
            to_user=msg.from_user,
            from_user=msg.to_user,
            create_time=int(time.time()),
        )
        return wx.encrypted_envelope(cipher, token, xml, ts, nonce)

    return handle


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="the harness folder (with floor.py, data/)")
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    sys.path.insert(0, a.bench)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")
    import floor  # the harness's own loader, checker and variants

    msgs, cfg = floor.load(os.path.join(a.bench, "data"), a.k, a.messages)
    replies = cfg["expected_reply"]
    variants = {
        "govwx-protocol": make_govwx(cfg, replies),
        "minimal-et": floor.make_minimal(cfg, replies),
        "wechatpy": floor.make_wechatpy(cfg, replies),
    }
    for name, handle in variants.items():
        floor.check(handle, msgs, cfg, replies)
        per = []
        for _ in range(a.reps):
            t0 = time.perf_counter_ns()
            for i, q, body in msgs:
                handle(i, q, body)
            per.append((time.perf_counter_ns() - t0) / 1000 / len(msgs))
        print(
            json.dumps(
                {
                    "variant": name,
                    "k": a.k,
                    "messages": len(msgs),
                    "us_per_msg": round(statistics.median(per), 2),
                    "min": round(min(per), 2),
                    "max": round(max(per), 2),
                }
            )
        )


if __name__ == "__main__":
    main()
