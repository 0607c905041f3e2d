#!/usr/bin/env bash
# govwx as a target of the benchmark harness (shared/bench; see docs/performance.md).
# Run by the harness in a fresh scratch directory with PORT and BENCH_RULES set: sets up
# a new SQLite database there, registers the workload's account, imports its rules and
# serves with `govwx serve`'s defaults: the web server, the task worker, the desk's loop
# and the link checker. Every message is stored durably and every message no rule
# answers becomes a case, as in production.
#
# Beside it, bench/intake_watch.py samples the desk's intake lag during the run; when the
# harness stops the target it waits for the desk to take in the last message (at most
# 60 s), writes intake.json here, then stops the server.
#   WORKERS [default]  web server processes     THREADS [1]  blocking threads each
#   GOVWX_DATABASE_URL  use another database (it is flushed of that account first)
#   DESK_LOOPS [1]  extra `govwx desk run` processes beside the one `serve` starts - 1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
govwx=${GOVWX:-$here/../.venv/bin/govwx}
python=$(dirname "$govwx")/python
export GOVWX_DATA_DIR=${GOVWX_DATA_DIR:-$PWD}
# The workload's callbacks carry fixed timestamps from 2026-01-01: widen the window here
# only, never in the defaults.
export GOVWX_WECHAT_TIMESTAMP_WINDOW=2000000000
# One key for every run: the scratch folder (where a key would be made) is new each run,
# while a PostgreSQL database keeps the secrets the last run sealed with it.
export GOVWX_SECRET_KEY=${GOVWX_SECRET_KEY:-govwx-benchmark-only-key-0c5b8e7f1a2d4e6b9c3f}
read -r appid token aes original < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(d["appid"], d["token"], d["aes_key"], d["account"])' "$BENCH_RULES")
# a fresh database for every run (the harness may retry a run in the same folder)
[ -z "${GOVWX_DATABASE_URL:-}" ] && rm -f "$GOVWX_DATA_DIR"/govwx.sqlite3*
"$govwx" migrate -v0
"$govwx" shell -c "
from govwx.accounts.models import Account
from govwx.desk.models import Case, IntakeCursor
from govwx.wechat.models import InboundMessage
Case.objects.filter(account__appid='$appid').delete()
Account.objects.filter(appid='$appid').delete()
last = InboundMessage.objects.order_by('-pk').values_list('pk', flat=True).first() or 0
IntakeCursor.objects.update_or_create(pk=1, defaults={'last_inbound_id': last})"
"$govwx" account add --name bench --appid "$appid" --secret bench-secret --token "$token" \
  --aes-key "$aes" --mode safe --original-id "$original" >/dev/null
"$govwx" rules import --account "$appid" "$BENCH_RULES" >/dev/null
args=(--host 127.0.0.1 --port "$PORT" --threads "${THREADS:-1}")
[ -n "${WORKERS:-}" ] && args+=(--workers "$WORKERS")
"$govwx" serve "${args[@]}" &
serve=$!
extra=()
for _ in $(seq 2 "${DESK_LOOPS:-1}"); do "$govwx" desk run & extra+=($!); done
"$python" "$here/intake_watch.py" --appid "$appid" --out "$PWD/intake.json" &
watch=$!
stop() {
  kill -TERM "$watch" 2>/dev/null || true
  wait "$watch" 2>/dev/null || true
  kill -TERM "$serve" "${extra[@]}" 2>/dev/null || true
  wait "$serve" 2>/dev/null || true
  exit 0
}
trap stop TERM INT
wait "$serve"
