#!/usr/bin/env bash
# A private Sentinel topology: one master, one replica, three sentinels (`redis-server --sentinel`)
# on the given ports, monitoring master name `mymaster` (quorum 2).
#   scripts/redis-sentinel.sh start <dir> <master> <replica> <s1> <s2> <s3>
#   scripts/redis-sentinel.sh stop <dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?start|stop}; d=${2:?dir}
case "$cmd" in
  start)
    m=${3:?}; r=${4:?}; shift 4
    "$here/redis-private.sh" start "$m" "$d/master" >/dev/null
    "$here/redis-private.sh" start "$r" "$d/replica" --replicaof 127.0.0.1 "$m" >/dev/null
    for s in "$@"; do
      mkdir -p "$d/s$s"
      cat > "$d/s$s/sentinel.conf" <<CONF
port $s
bind 127.0.0.1
daemonize yes
pidfile $d/s$s/redis.pid
logfile $d/s$s/redis.log
dir $d/s$s
sentinel monitor mymaster 127.0.0.1 $m 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
sentinel parallel-syncs mymaster 1
CONF
      redis-server "$d/s$s/sentinel.conf" --sentinel
    done
    for s in "$@"; do
      for _ in $(seq 1 100); do
        redis-cli -p "$s" sentinel get-master-addr-by-name mymaster 2>/dev/null | grep -q 127.0.0.1 && break
        sleep 0.05
      done
    done ;;
  stop)
    for x in "$d"/*/; do "$here/redis-private.sh" stop "$x" || true; done ;;
  *) echo "usage: $0 start <dir> <master> <replica> <s1> <s2> <s3> | stop <dir>" >&2; exit 2 ;;
esac
