#!/usr/bin/env bash
# A private RabbitMQ vhost on the shared local broker, for tests whose topology has fixed names
# (Celery's celery_delayed_* exchanges and queues). Usage: rabbitmq-vhost.sh create|delete <vhost>
# `create` also grants guest full permissions; `delete` removes everything declared in it.
set -euo pipefail
cmd="${1:?create|delete}"; vhost="${2:?vhost}"
case "$cmd" in
  create)
    rabbitmqctl add_vhost "$vhost" >/dev/null
    rabbitmqctl set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null ;;
  delete)
    rabbitmqctl delete_vhost "$vhost" >/dev/null 2>&1 || true ;;
  *) echo "usage: $0 create|delete <vhost>" >&2; exit 2 ;;
esac
