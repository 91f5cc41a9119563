#!/usr/bin/env bash
# A private Sentinel topology: one master, one replica, three sentinels (`redis-server --sentinel`)
# on the given ports, monitoring master name `mymaster` (quorum 2). `start` returns once the
# replica has completed its initial sync (`master_link_status:up`) and every sentinel lists it:
# before that a kill of the master makes Sentinel promote an empty replica (a replica that never
# synced reports `master_link_down_since_seconds:-1`, which Sentinel's `sentinelSelectSlave`
# does not reject), so everything on the master is gone (issue 10, CI run of session 3).
# `repl-diskless-sync-delay 0`: Redis 7 waits 5 s by default before the first full sync.
#   scripts/redis-sentinel.sh start <dir> <master> <replica> <s1> <s2> <s3>
#   scripts/redis-sentinel.sh stop <dir>
# Optional, as estates secure it: REDIS_SENTINEL_DATA_PASSWORD (master and replica `requirepass`,
# `masterauth`, the sentinels' `auth-pass`) and REDIS_SENTINEL_PASSWORD (the sentinels' own
# `requirepass` and `sentinel-pass`, what kombu's `sentinel_kwargs={'password': …}` answers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?start|stop}; d=${2:?dir}
case "$cmd" in
  start)
    m=${3:?}; r=${4:?}; shift 4
    dpw=${REDIS_SENTINEL_DATA_PASSWORD:-}; spw=${REDIS_SENTINEL_PASSWORD:-}
    auth=()
    if [ -n "$dpw" ]; then auth=(--requirepass "$dpw" --masterauth "$dpw"); export REDISCLI_AUTH="$dpw"; fi
    "$here/redis-private.sh" start "$m" "$d/master" --repl-diskless-sync-delay 0 "${auth[@]}" >/dev/null
    "$here/redis-private.sh" start "$r" "$d/replica" --replicaof 127.0.0.1 "$m" "${auth[@]}" >/dev/null
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
      if [ -n "$dpw" ]; then echo "sentinel auth-pass mymaster $dpw" >> "$d/s$s/sentinel.conf"; fi
      if [ -n "$spw" ]; then printf 'requirepass %s\nsentinel sentinel-pass %s\n' "$spw" "$spw" >> "$d/s$s/sentinel.conf"; fi
      redis-server "$d/s$s/sentinel.conf" --sentinel
    done
    synced=
    for _ in $(seq 1 600); do
      if redis-cli -p "$r" info replication 2>/dev/null | grep -q '^master_link_status:up'; then synced=1; break; fi
      sleep 0.05
    done
    [ -n "$synced" ] || { echo "replica :$r did not sync with master :$m; see $d/replica/redis.log" >&2; exit 1; }
    # The sentinels' password, not the data nodes'.
    scli() { if [ -n "$spw" ]; then REDISCLI_AUTH="$spw" redis-cli -p "$@"; else env -u REDISCLI_AUTH redis-cli -p "$@"; fi; }
    for s in "$@"; do
      known=
      for _ in $(seq 1 600); do
        if scli "$s" sentinel replicas mymaster 2>/dev/null | grep -qx "$r"; then known=1; break; fi
        sleep 0.05
      done
      [ -n "$known" ] || { echo "sentinel :$s does not list replica :$r; see $d/s$s/redis.log" >&2; exit 1; }
    done ;;
  stop)
    for x in "$d"/*/; do "$here/redis-private.sh" stop "$x" || true; done ;;
  *) echo "usage: $0 start <dir> <master> <replica> <s1> <s2> <s3> | stop <dir>" >&2; exit 2 ;;
esac
