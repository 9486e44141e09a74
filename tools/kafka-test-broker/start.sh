#!/usr/bin/env bash
# Builds (once) and starts the test broker in the background on 127.0.0.1:PORT (default 9092).
# usage: start.sh [PORT] [broker options...]   e.g. start.sh 19092 --partitions 4 orders:4
# Prints "PID ADDRESS" on its last line once the broker listens; stop it with: kill -TERM PID
# (kill -USR1 PID takes it down, data kept; kill -USR2 PID brings it up again on the same port)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PORT="${1:-9092}"; shift || true
BIN="$("$HERE/build.sh" | tail -1)"
LOG="$(dirname "$BIN")/broker-$PORT.log"
"$BIN" --port "$PORT" --retention-bytes $((1024*1024*1024)) "$@" >"$LOG" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then echo "$PID 127.0.0.1:$PORT"; exit 0; fi
  kill -0 "$PID" 2>/dev/null || { echo "broker exited; log:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.05
done
echo "broker did not listen on $PORT within 5s" >&2; kill "$PID" 2>/dev/null; exit 1
