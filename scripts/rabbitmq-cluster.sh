#!/usr/bin/env bash
# A private, REAL 3-node RabbitMQ cluster on loopback, for the failover tests (never the shared 5672).
#   scripts/rabbitmq-cluster.sh start    → three rabbitmq-server nodes, joined; prints the URL list
#   scripts/rabbitmq-cluster.sh stop     → stops every node, kills what is left, removes the dir
#   scripts/rabbitmq-cluster.sh status   → cluster_status of the first running node
#   scripts/rabbitmq-cluster.sh ctl <n> <rabbitmqctl args…>  → rabbitmqctl against node n (1..3)
#   scripts/rabbitmq-cluster.sh url      → amqp://guest:guest@127.0.0.1:5681//;… (the failover list)
#
# Nodes rabbit-c1@localhost … rabbit-c3@localhost, AMQP on 127.0.0.1:5681-5683, Erlang distribution
# on 127.0.0.1:25681-25683 (RabbitMQ's NODE_PORT + 20000), no plugins (so no management port). They
# register with the machine's epmd (4369), which the system node shares: that is how Erlang works
# and it disturbs nothing. Everything else is private: data, logs, config, pid files and the Erlang
# cookie live under $RMQ_CLUSTER_DIR (default /tmp/celery-wire-rmq-cluster); the cookie is read
# from $HOME/.erlang.cookie, so every node and every rabbitmqctl call here runs with HOME set to
# that directory. The scripts under rabbitmq_server-*/sbin are run directly: /usr/sbin/rabbitmq-*
# are wrappers that `su rabbitmq` and would use the system node's cookie and /etc/rabbitmq.
set -euo pipefail

BASE=${RMQ_CLUSTER_DIR:-/tmp/celery-wire-rmq-cluster}
PORT0=${RMQ_CLUSTER_PORT:-5681}
NODES=(1 2 3)
SBIN=${RMQ_SBIN:-$(ls -d /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin 2>/dev/null | sort -V | tail -1)}
[ -x "$SBIN/rabbitmq-server" ] || { echo "rabbitmq-server not found (set RMQ_SBIN)" >&2; exit 1; }

node_name() { echo "rabbit-c$1@localhost"; }
node_port() { echo $((PORT0 + $1 - 1)); }

# The environment of node $1 (also used for rabbitmqctl against it).
node_env() {
  local n=$1 d="$BASE/c$1"
  export HOME="$BASE/home"
  # Our own (empty) env file and config: /etc/rabbitmq/rabbitmq-env.conf names the system node.
  export RABBITMQ_CONF_ENV_FILE="$BASE/rabbitmq-env.conf"
  export RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
  export RABBITMQ_NODENAME
  RABBITMQ_NODENAME=$(node_name "$n")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT
  RABBITMQ_NODE_PORT=$(node_port "$n")
  export RABBITMQ_DIST_PORT=$((RABBITMQ_NODE_PORT + 20000))
  export RABBITMQ_MNESIA_BASE="$d/mnesia"
  export RABBITMQ_MNESIA_DIR="$d/mnesia/$RABBITMQ_NODENAME"
  export RABBITMQ_LOG_BASE="$d/log"
  export RABBITMQ_PID_FILE="$d/rabbit.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
  export RABBITMQ_PLUGINS_EXPAND_DIR="$d/plugins-expand"
  export RABBITMQ_FEATURE_FLAGS_FILE="$d/feature_flags"
  export RABBITMQ_QUORUM_DIR="$d/mnesia/$RABBITMQ_NODENAME/quorum"
  # Loopback-only distribution listener; one scheduler each (2 cores shared by three nodes + tests).
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS=127.0.0.1
  unset ERL_FLAGS
}

ctl() { (node_env "$1" && shift && "$SBIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"); }

url_list() {
  local out="" n
  for n in "${NODES[@]}"; do out+="${out:+;}amqp://guest:guest@127.0.0.1:$(node_port "$n")//"; done
  echo "$out"
}

start_node() {
  local n=$1 d="$BASE/c$1"
  mkdir -p "$d/mnesia" "$d/log" "$d/plugins-expand"
  echo '[].' >"$d/enabled_plugins"
  echo '[].' >"$d/advanced.config"
  # loopback_users.guest = false: guest may log in over 127.0.0.1 anyway; watermarks low enough
  # that three nodes on a small CI box raise no alarm that would block publishers.
  cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$(node_port "$n")
vm_memory_high_watermark.absolute = 1GB
disk_free_limit.absolute = 50MB
log.file.level = info
log.console = false
EOF
  (node_env "$n" && cd "$d" && setsid "$SBIN/rabbitmq-server" >"$d/log/startup.log" 2>&1 </dev/null &
    echo $! >"$d/launcher.pid")
}

wait_node() {
  local n=$1
  # `wait <pidfile>` first waits for the node to write its pid file (await_startup fails at once
  # while the Erlang VM is not up yet), then for the rabbit application.
  if ! ctl "$n" wait --timeout 180 "$BASE/c$n/rabbit.pid" >/dev/null 2>&1; then
    echo "node $(node_name "$n") did not start; see $BASE/c$n/log" >&2
    tail -20 "$BASE/c$n/log/startup.log" "$BASE/c$n/log/rabbit-c$n@localhost.log" >&2 || true
    return 1
  fi
}

stop_all() {
  local n pid
  for n in "${NODES[@]}"; do
    [ -d "$BASE/c$n" ] || continue
    ctl "$n" stop >/dev/null 2>&1 &
  done
  wait || true
  # Whatever survived `rabbitmqctl stop` (a node that never finished booting): by its pid files.
  for n in "${NODES[@]}"; do
    for f in "$BASE/c$n/rabbit.pid" "$BASE/c$n/launcher.pid"; do
      [ -s "$f" ] || continue
      pid=$(cat "$f")
      kill -0 "$pid" 2>/dev/null || continue
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    done
  done
  # epmd forgets a node when its VM exits; the directory goes last.
  rm -rf "$BASE"
}

cmd=${1:-}
case "$cmd" in
  start)
    stop_all # a previous run that died before its stop
    mkdir -p "$BASE/home"
    : >"$BASE/rabbitmq-env.conf"
    head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$BASE/home/.erlang.cookie"
    chmod 400 "$BASE/home/.erlang.cookie"
    for n in "${NODES[@]}"; do start_node "$n"; done
    # Every rabbitmqctl call boots an Erlang VM (seconds on a busy box): wait for the three at once.
    pids=()
    for n in "${NODES[@]}"; do wait_node "$n" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || { stop_all; exit 1; }; done
    # The documented way to form a cluster: stop_app, join_cluster, start_app (which returns once
    # the app runs again).
    for n in "${NODES[@]:1}"; do ctl "$n" stop_app >/dev/null & done
    wait
    for n in "${NODES[@]:1}"; do
      ctl "$n" join_cluster "$(node_name 1)" >/dev/null || { stop_all; exit 1; }
    done
    # join_cluster and start_app fail loudly when the node did not join: their status is the check.
    pids=()
    for n in "${NODES[@]:1}"; do ctl "$n" start_app >/dev/null & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || { echo "start_app failed" >&2; stop_all; exit 1; }; done
    url_list ;;
  stop) stop_all ;;
  status)
    for n in "${NODES[@]}"; do
      if ctl "$n" cluster_status 2>/dev/null; then exit 0; fi
    done
    echo "no node of the cluster is running" >&2; exit 1 ;;
  ctl) n=${2:?node 1..3}; shift 2; ctl "$n" "$@" ;;
  url) url_list ;;
  *) echo "usage: $0 start|stop|status|url|ctl <n> <args…>" >&2; exit 2 ;;
esac
