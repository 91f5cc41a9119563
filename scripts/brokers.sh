#!/usr/bin/env bash
# Make sure Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672) answer, starting whatever does
# not: the local redis-server / rabbitmq-server (installed from Debian's packages when missing and
# we are root), or `docker compose up -d redis rabbitmq` where a Docker engine runs.
#
#   source scripts/brokers.sh; ensure_brokers      # .ci/run: start what is missing, keep it
#   bash scripts/brokers.sh run CMD ARGS…          # npm scripts: start what is missing, run CMD,
#                                                  # then stop only what this call started
set -euo pipefail

_brokers_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROKERS_STARTED=()
# The Redis port can be moved (the script's own test starts one on a spare port).
REDIS_PORT="${CELERY_WIRE_REDIS_PORT:-6379}"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
_blog() { printf '=== brokers: %s\n' "$*" >&2; }

_apt_ready=0
_apt_install() {
  if [ "$(id -u)" != 0 ]; then
    _blog "$1 is not installed and we are not root: install it, or start it yourself"
    return 1
  fi
  if [ "$_apt_ready" = 0 ]; then apt-get update -qq; _apt_ready=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

_docker_up() {
  command -v docker >/dev/null && docker info >/dev/null 2>&1 || return 1
  _blog "starting $1 with docker compose"
  docker compose -f "$_brokers_root/compose.yaml" up -d "$1" >&2
  BROKERS_STARTED+=("docker:$1")
}

_wait_port() {
  local port=$1 tries=$2
  for _ in $(seq 1 "$tries"); do port_open "$port" && return 0; sleep 0.5; done
  return 1
}

ensure_redis() {
  port_open "$REDIS_PORT" && return 0
  if ! command -v redis-server >/dev/null && ! _docker_up redis; then _apt_install redis-server; fi
  if ! port_open "$REDIS_PORT" && command -v redis-server >/dev/null; then
    _blog "starting redis-server on 127.0.0.1:$REDIS_PORT"
    local dir="/tmp/celery-wire-redis-$REDIS_PORT"
    mkdir -p "$dir"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
    BROKERS_STARTED+=("redis")
  fi
  _wait_port "$REDIS_PORT" 100 || { _blog "redis did not start"; return 1; }
}

ensure_rabbitmq() {
  port_open 5672 && return 0
  if ! command -v rabbitmq-server >/dev/null && ! _docker_up rabbitmq; then
    _apt_install rabbitmq-server
  fi
  if ! port_open 5672 && command -v rabbitmq-server >/dev/null; then
    _blog "starting rabbitmq-server on 127.0.0.1:5672"
    rabbitmq-server -detached >&2 || true
    BROKERS_STARTED+=("rabbitmq")
  fi
  _wait_port 5672 240 || { _blog "rabbitmq did not start"; return 1; }
}

ensure_brokers() {
  ensure_redis
  ensure_rabbitmq
}

stop_started_brokers() {
  local s
  for s in "${BROKERS_STARTED[@]+"${BROKERS_STARTED[@]}"}"; do
    case "$s" in
      redis) _blog "stopping the redis-server we started"
        redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true ;;
      rabbitmq) _blog "stopping the rabbitmq-server we started"
        rabbitmqctl stop >/dev/null 2>&1 || true ;;
      docker:*) _blog "stopping ${s#docker:} (docker compose)"
        docker compose -f "$_brokers_root/compose.yaml" stop "${s#docker:}" >&2 || true ;;
    esac
  done
  BROKERS_STARTED=()
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    run)
      shift
      trap stop_started_brokers EXIT
      ensure_brokers
      "$@"
      ;;
    ensure) ensure_brokers ;;
    *) echo "usage: scripts/brokers.sh run CMD [ARGS…] | ensure" >&2; exit 2 ;;
  esac
fi
