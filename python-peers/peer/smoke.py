"""Smoke check: send conformance tasks through the configured broker and print results as JSON."""
import json
import sys

from peer.app import app


def main():
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    out = {
        'add': app.send_task('conformance.add', (2, 3), queue='py').get(timeout=timeout),
        'echo': app.send_task('conformance.echo', (1, 'a'), {'k': [1.5]}, queue='py').get(timeout=timeout),
        'progress': app.send_task('conformance.progress', (2,), queue='py').get(timeout=timeout),
    }
    try:
        app.send_task('conformance.fail', ('KeyError', 'nope'), queue='py').get(timeout=timeout)
    except KeyError as exc:
        out['fail'] = ['KeyError', str(exc)]
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
