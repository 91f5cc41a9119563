"""Golden rows of Celery's SQLAlchemy result backend, per line (run with .venv-<line>-db).

Writes protocol-fixtures/database/rows-<line>.json: for each case the bytes Celery puts in the
`result` / `children` / `args` column and in `celery_tasksetmeta.result`, computed by Celery's own
code paths without a database (deterministic): `DatabaseBackend.encode` / `prepare_exception` /
`prepare_value` (5.7: `_update_result`, `_save_group`) and SQLAlchemy's `PickleType` bind
processor (<= 5.6: the `sa.PickleType` columns). Versions are recorded in the file.
Usage: python-peers/.venv-<line>-db/bin/python python-peers/fixtures_db/generate.py OUT_DIR
"""
import datetime
import json
import os
import sys

import celery
import kombu
import sqlalchemy as sa
from celery import Celery
from celery.result import AsyncResult, GroupResult
from kombu.utils.encoding import ensure_bytes
from sqlalchemy.dialects import postgresql

LINE = '5.7' if celery.__version__.startswith('5.7') else '5.2'
URL = 'postgresql://postgres@127.0.0.1:5432/celery_wire_fixture'


def main(out_dir):
    app = Celery('fixtures', broker='memory://', backend='db+' + URL, set_as_current=True)
    app.conf.result_expires = 86400
    app.conf.database_create_tables_at_setup = False  # 5.7: never touch a database here
    backend = app.backend
    pickle_bind = sa.PickleType().bind_processor(postgresql.dialect())
    values = {
        'success_dict': {'a': [1, 2], 's': 'é', 'big': 2 ** 70, 'f': 1.5, 'n': None, 't': True},
        'success_int': 5,
        'failure_keyerror': backend.prepare_exception(KeyError('nope')),
        'failure_valueerror_args': backend.prepare_exception(ValueError('bad', 3)),
        'success_datetime': datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
        'success_aware_datetime': datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    }
    cases = []
    for name, value in values.items():
        if LINE == '5.7':
            col = ensure_bytes(backend.encode(value))  # `_update_result`
        else:
            col = pickle_bind(value)
        cases.append({'case': name, 'table': 'celery_taskmeta', 'column': 'result',
                      'encoding': 'json' if LINE == '5.7' else 'pickle', 'hex': col.hex()})
    # result_serializer='pickle' keeps the exception instance itself (get_pickleable_exception).
    pkl_app = Celery('fixtures-pickle', broker='memory://', backend='db+' + URL)
    pkl_app.conf.result_serializer = 'pickle'
    pkl_app.conf.database_create_tables_at_setup = False
    exc = pkl_app.backend.prepare_exception(KeyError('nope'))
    col = ensure_bytes(pkl_app.backend.encode(exc)) if LINE == '5.7' else pickle_bind(exc)
    cases.append({'case': 'failure_exception_instance_pickle_serializer', 'table': 'celery_taskmeta',
                  'column': 'result', 'encoding': 'pickle', 'hex': col.hex()})
    group = GroupResult('g-1', [AsyncResult('c-1', app=app), AsyncResult('c-2', app=app)], app=app)
    gcol = ensure_bytes(backend.encode(backend.prepare_value(group))) if LINE == '5.7' else pickle_bind(group)
    cases.append({'case': 'group_two_children', 'table': 'celery_tasksetmeta', 'column': 'result',
                  'encoding': 'json' if LINE == '5.7' else 'pickle', 'hex': gcol.hex()})
    doc = {'line': LINE, 'versions': {'celery': celery.__version__, 'kombu': kombu.__version__,
                                      'sqlalchemy': sa.__version__,
                                      'python': sys.version.split()[0]},
           'cases': cases}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f'rows-{LINE}.json'), 'w') as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'protocol-fixtures/database')
