#!/usr/bin/env bash
# A private redis-server for tests that restart or kill Redis (never the shared 6379).
#   scripts/redis-private.sh start <port> <dir> [redis-server args…]   → prints the pid
#   scripts/redis-private.sh stop <dir>                                 → SIGTERM, waits
#   scripts/redis-private.sh kill <dir>                                 → SIGKILL (crash)
# The data directory holds redis.pid and redis.log; no persistence unless args ask for it.
set -euo pipefail
cmd=${1:?start|stop|kill}
case "$cmd" in
  start)
    port=${2:?port}; dir=${3:?dir}; shift 3
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@"
    for _ in $(seq 1 100); do
      if redis-cli -p "$port" ping >/dev/null 2>&1 || [ -n "${REDIS_PRIVATE_NOPING:-}" ]; then
        for _ in $(seq 1 50); do [ -s "$dir/redis.pid" ] && break; sleep 0.05; done
        cat "$dir/redis.pid"; exit 0
      fi
      sleep 0.05
    done
    echo "redis-server on port $port did not start; see $dir/redis.log" >&2; exit 1 ;;
  stop|kill)
    dir=${2:?dir}
    [ -s "$dir/redis.pid" ] || exit 0
    pid=$(cat "$dir/redis.pid")
    if [ "$cmd" = kill ]; then kill -9 "$pid" 2>/dev/null || true; else kill "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { rm -f "$dir/redis.pid"; exit 0; }; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true; rm -f "$dir/redis.pid" ;;
  *) echo "usage: $0 start <port> <dir> [args…] | stop <dir> | kill <dir>" >&2; exit 2 ;;
esac
