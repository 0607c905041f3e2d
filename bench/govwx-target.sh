#!/usr/bin/env bash
# govwx as a target of the benchmark harness (shared/bench; see docs/performance.md).
# Run by the harness in a fresh scratch directory with PORT and BENCH_RULES set: sets up
# a new SQLite database there, registers the workload's account, imports its rules and
# serves. Every message is stored durably, as in production.
#   WORKERS [2]  web server processes     THREADS [1]  blocking threads each
#   GOVWX_DATABASE_URL  use another database (it is flushed of that account first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
govwx=${GOVWX:-$here/../.venv/bin/govwx}
export GOVWX_DATA_DIR=${GOVWX_DATA_DIR:-$PWD}
# The workload's callbacks carry fixed timestamps from 2026-01-01: widen the window here
# only, never in the defaults.
export GOVWX_WECHAT_TIMESTAMP_WINDOW=2000000000
read -r appid token aes original < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(d["appid"], d["token"], d["aes_key"], d["account"])' "$BENCH_RULES")
"$govwx" migrate -v0
"$govwx" shell -c "from govwx.accounts.models import Account; Account.objects.filter(appid='$appid').delete()"
"$govwx" account add --name bench --appid "$appid" --secret bench-secret --token "$token" \
  --aes-key "$aes" --mode safe --original-id "$original" >/dev/null
"$govwx" rules import --account "$appid" "$BENCH_RULES" >/dev/null
exec "$govwx" serve --host 127.0.0.1 --port "$PORT" --workers "${WORKERS:-2}" \
  --threads "${THREADS:-1}" --no-task-worker
