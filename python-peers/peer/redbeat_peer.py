"""Python RedBeat for celery-wire's beat interop tests (run with python-peers/.venv-beat).

  python -m peer.redbeat_peer save NAME TASK EVERY ARGS_JSON OPTIONS_JSON   store an entry
  python -m peer.redbeat_peer show NAME                                     print an entry
  celery -A peer.redbeat_peer beat -S redbeat.RedBeatScheduler              run Python beat

Settings come from the environment: REDBEAT_REDIS_URL, REDBEAT_KEY_PREFIX, REDBEAT_LOCK_TIMEOUT,
CELERY_BROKER_URL, BEAT_SCHEDULE_JSON (name -> {task, every, args, options}).
"""
import json
import os
import sys

from celery import Celery

app = Celery('redbeat-peer', broker=os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0'))
app.conf.redbeat_redis_url = os.environ.get('REDBEAT_REDIS_URL', 'redis://127.0.0.1:6379/0')
app.conf.redbeat_key_prefix = os.environ.get('REDBEAT_KEY_PREFIX', 'redbeat:')
if os.environ.get('REDBEAT_LOCK_TIMEOUT'):
    app.conf.redbeat_lock_timeout = int(os.environ['REDBEAT_LOCK_TIMEOUT'])
app.conf.beat_max_loop_interval = float(os.environ.get('BEAT_MAX_LOOP_INTERVAL', '1'))
app.conf.beat_schedule = {
    name: {'task': e['task'], 'schedule': float(e['every']), 'args': tuple(e.get('args', [])),
           'options': e.get('options', {})}
    for name, e in json.loads(os.environ.get('BEAT_SCHEDULE_JSON', '{}')).items()
}


def main(argv):
    from redbeat import RedBeatSchedulerEntry
    if argv[1] == 'save':
        _, _, name, task, every, args, options = argv
        RedBeatSchedulerEntry(name, task, float(every), args=tuple(json.loads(args)),
                              options=json.loads(options), app=app).save()
        return 0
    if argv[1] == 'show':
        key = app.conf.redbeat_key_prefix + argv[2]
        e = RedBeatSchedulerEntry.from_key(key, app=app)
        print(json.dumps({
            'name': e.name, 'task': e.task, 'args': list(e.args or []), 'options': e.options,
            'every': e.schedule.run_every.total_seconds(),
            'last_run_at': e.last_run_at.isoformat() if e.last_run_at else None,
            'total_run_count': e.total_run_count,
        }))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
