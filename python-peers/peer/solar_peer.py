"""Celery's `solar` schedule (celery/schedules.py, with ephem) for celery-wire's solar tests.

  python -m peer.solar_peer < cases.json     (run with python-peers/.venv-beat)

stdin: [{"event", "lat", "lon", "last_run_at", "now"}] with ISO-8601 UTC instants ("...Z").
stdout: [{"remaining": remaining_estimate(last_run_at).total_seconds(), "is_due": bool,
"next": seconds}] where is_due/next are `is_due(last_run_at)` with `now` as the clock.
"""
import json
import sys
from datetime import datetime, timezone

from celery import Celery
from celery.schedules import solar

app = Celery('solar-peer')
app.conf.timezone = 'UTC'


def parse(text):
    return datetime.fromisoformat(text.replace('Z', '+00:00')).astimezone(timezone.utc)


def main():
    out = []
    for c in json.load(sys.stdin):
        now = parse(c['now'])
        s = solar(c['event'], c['lat'], c['lon'], nowfun=lambda now=now: now, app=app)
        last = parse(c['last_run_at'])
        due, nxt = s.is_due(last)
        out.append({
            'remaining': s.remaining_estimate(last).total_seconds(),
            'is_due': bool(due),
            'next': nxt,
        })
    json.dump(out, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
