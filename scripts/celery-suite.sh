#!/usr/bin/env bash
# Celery 5.7's own integration suite (t/integration from the release's sdist) against
# `celery-wire worker` serving the TypeScript port of t/integration/tasks.py — or, as the
# control, against Celery's own worker — through python-peers/celery-suite/celery_wire_suite.py.
#
#   bash scripts/celery-suite.sh [ts|python|both] [redis|amqp-redis|amqp-rpc|all] [pytest args…]
#
# Combos: redis = Redis broker + Redis backend; amqp-redis = RabbitMQ + Redis; amqp-rpc =
# RabbitMQ + rpc. Each run gets a private redis-server (own port) and its own RabbitMQ vhost,
# both removed afterwards; runs of one call go in parallel. Reruns are off (-p no:rerunfailures).
# CELERY_SUITE_SELECTION=ci runs only python-peers/celery-suite/ci-selection.txt (see there).
# Reports: .celery-suite/<worker>-<combo>.{log,xml}; the last line per run is pytest's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
worker=${1:-ts}; combo=${2:-all}
shift $(( $# >= 2 ? 2 : $# ))
suite="$root/python-peers/celery-suite"
out=${CELERY_SUITE_OUT:-"$root/.celery-suite"}; mkdir -p "$out"
bash "$root/python-peers/bootstrap-extra.sh" celery-suite >&2
src=$(bash "$root/python-peers/fetch-celery-source.sh" 5.7.0)
py="$root/python-peers/.venv-celery-suite/bin/python"
if [[ "$worker" != python && ! -f "$root/dist/index.js" ]]; then (cd "$root" && npm run build >&2); fi

workers=("$worker"); [[ "$worker" == both ]] && workers=(ts python)
combos=("$combo"); [[ "$combo" == all ]] && combos=(redis amqp-redis amqp-rpc)

selection=(t/integration)
if [[ "${CELERY_SUITE_SELECTION:-full}" == ci ]]; then
  mapfile -t selection < <(grep -v '^\s*#' "$suite/ci-selection.txt" | sed '/^\s*$/d')
fi

run_one() {
  local w=$1 c=$2 port=$3; shift 3
  local tag="$w-$c" dir; dir=$(mktemp -d "/tmp/celery-suite-$tag.XXXX")
  local vhost="celery-suite-taskapi-$tag"
  cleanup() {
    bash "$root/scripts/redis-private.sh" stop "$dir/redis" >/dev/null 2>&1 || true
    rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
    rm -rf "$dir"
  }
  trap cleanup RETURN
  bash "$root/scripts/redis-private.sh" start "$port" "$dir/redis" >/dev/null
  local broker="redis://127.0.0.1:$port/0" backend="redis://127.0.0.1:$port/1"
  if [[ "$c" == amqp-* ]]; then
    rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
    rabbitmqctl -q add_vhost "$vhost" >/dev/null
    rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
    broker="amqp://guest:guest@127.0.0.1:5672/$vhost"
  fi
  [[ "$c" == amqp-rpc ]] && backend="rpc://"
  local rc=0 args=("${selection[@]}")
  (( $# > 0 )) && args=("$@")
  (cd "$src" && env TEST_BROKER="$broker" TEST_BACKEND="$backend" REDIS_HOST=127.0.0.1 \
    REDIS_PORT="$port" CELERY_SUITE_WORKER="$w" CELERY_SUITE_ROOT="$root" \
    CELERY_SUITE_LOG_DIR="$out/$tag" PYTHONPATH="$suite:$src" \
    "$py" -m pytest -p celery_wire_suite -p celery.contrib.pytest -p no:rerunfailures \
      -p no:cacheprovider -o addopts="" --rootdir "$src" -q -rfE --timeout=300 \
      --junitxml="$out/$tag.xml" "${args[@]}") >"$out/$tag.log" 2>&1 || rc=$?
  echo "$tag: $(tail -n 1 "$out/$tag.log")"
  return "$rc"
}

pids=(); port=${CELERY_SUITE_PORT:-6391}
for w in "${workers[@]}"; do
  for c in "${combos[@]}"; do
    run_one "$w" "$c" "$port" "$@" & pids+=($!)
    port=$((port + 1))
  done
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit "$status"
