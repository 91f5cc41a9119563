#!/usr/bin/env bash
# A private SQS-compatible server (moto's server mode) on 127.0.0.1, for tests and CI.
#   scripts/sqs-server.sh start [PORT]  -> prints the port once the server answers (free port if omitted)
#   scripts/sqs-server.sh stop PORT     -> stops the server started on PORT (only that one)
# The venv comes from python-peers/bootstrap-sqs.sh (built on first use).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/python-peers/.venv-moto"
STATE="${TMPDIR:-/tmp}/celery-wire-sqs"
mkdir -p "$STATE"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
  start)
    if [[ ! -x "$VENV/bin/moto_server" ]]; then
      SQS_VENVS=moto "$ROOT/python-peers/bootstrap-sqs.sh" >&2
    fi
    port="${2:-$(free_port)}"
    log="$STATE/$port.log"
    # setsid: its own process group, so that `stop` ends exactly this server and its children.
    setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 < /dev/null &
    echo $! > "$STATE/$port.pid"
    for _ in $(seq 1 150); do
      if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
        echo "$port"
        exit 0
      fi
      if ! kill -0 "$(cat "$STATE/$port.pid")" 2>/dev/null; then break; fi
      sleep 0.2
    done
    echo "sqs-server: moto did not start on port $port:" >&2
    cat "$log" >&2
    exit 1
    ;;
  stop)
    port="${2:?usage: sqs-server.sh stop PORT}"
    pidfile="$STATE/$port.pid"
    [[ -f "$pidfile" ]] || exit 0
    pid="$(cat "$pidfile")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile" "$STATE/$port.log"
    ;;
  *)
    echo "usage: $0 start [PORT] | stop PORT" >&2
    exit 2
    ;;
esac
