"""pytest plugin: run Celery's own ``t/integration`` suite against an out-of-process worker.

Celery's suite starts its worker in process (``celery.contrib.pytest.celery_session_worker`` →
``celery.contrib.testing.worker.start_worker``). This plugin swaps that fixture, before the
suite's conftest imports it, for one that starts a worker *process*:

* ``CELERY_SUITE_WORKER=ts`` (default): ``celery-wire worker`` serving the TypeScript port of
  ``t/integration/tasks.py`` (``conformance/celery-suite-app/index.ts``);
* ``CELERY_SUITE_WORKER=python``: Celery's own ``celery worker`` (prefork, concurrency 1, as
  ``start_worker``) serving ``t/integration/tasks.py`` — the control run of the same harness.

Load with ``-p celery_wire_suite -p celery.contrib.pytest`` and this directory on ``PYTHONPATH``.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import celery.contrib.pytest as celery_pytest
from celery.utils.nodenames import anon_nodename

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get('CELERY_SUITE_ROOT') or os.path.abspath(os.path.join(HERE, '..', '..'))
WORKER = os.environ.get('CELERY_SUITE_WORKER', 'ts')
LOG_DIR = os.environ.get('CELERY_SUITE_LOG_DIR') or os.path.join(ROOT, '.celery-suite')


class WorkerProcess:
    """What the suite's tests see of the worker: a hostname (for ``destination=``) and a pid."""

    def __init__(self, proc, hostname, log_path):
        self.proc = proc
        self.hostname = hostname
        self.pid = proc.pid
        self.log_path = log_path


def _command(hostname):
    if WORKER == 'python':
        celery = os.path.join(os.path.dirname(sys.executable), 'celery')
        return [celery, '-A', 'celery_suite_pyapp', 'worker', '-P', 'prefork',
                '-c', os.environ.get('CELERY_SUITE_CONCURRENCY', '1'),
                '-l', 'info', '-n', hostname, '--without-heartbeat', '--without-mingle',
                '--without-gossip', '-Q', 'celery']
    node = shutil.which('node') or 'node'
    return [node, os.path.join(ROOT, 'bin', 'celery-wire.js'), 'worker',
            '--app', os.path.join(ROOT, 'conformance', 'celery-suite-app', 'index.ts'),
            '-c', os.environ.get('CELERY_SUITE_CONCURRENCY', '1'), '-l', 'info', '-n', hostname,
            '-Q', 'celery']


def _wait_ready(app, hostname, proc, log_path, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log_path, encoding='utf-8', errors='replace') as f:
                tail = f.read()[-4000:]
            raise RuntimeError(f'worker exited with {proc.returncode}:\n{tail}')
        replies = app.control.ping(destination=[hostname], timeout=1.0)
        if replies:
            return
    raise RuntimeError(f'worker {hostname} did not answer ping within {timeout}s')


@pytest.fixture(scope='session')
def celery_session_worker(request, celery_session_app, celery_includes, celery_class_tasks,
                          celery_worker_pool, celery_worker_parameters):
    """Session fixture: a worker process living throughout the suite (replaces start_worker)."""
    for module in celery_includes:
        celery_session_app.loader.import_task_module(module)
    for class_task in celery_class_tasks:
        celery_session_app.register_task(class_task)
    # `anon_nodename()` of this process, as the in-process worker of `start_worker` is named:
    # test_inspect.py addresses the worker's replies by exactly that name (`gen<pid>@<host>`).
    hostname = anon_nodename()
    os.makedirs(LOG_DIR, exist_ok=True)
    log_path = os.path.join(LOG_DIR, f'worker-{WORKER}.log')
    env = dict(os.environ)
    conf = celery_session_app.conf
    env['CELERY_BROKER_URL'] = conf.broker_url
    env['CELERY_RESULT_BACKEND'] = conf.result_backend
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (HERE, os.getcwd(), env.get('PYTHONPATH', '')) if p)
    log = open(log_path, 'a', encoding='utf-8')
    log.write(f'\n==== {time.strftime("%H:%M:%S")} {" ".join(_command(hostname))}\n')
    log.flush()
    proc = subprocess.Popen(_command(hostname), stdout=log, stderr=subprocess.STDOUT, env=env,
                            cwd=os.getcwd(), start_new_session=True)
    try:
        try:
            _wait_ready(celery_session_app, hostname, proc, log_path)
        except RuntimeError as exc:
            # A session fixture that fails is retried by every test: stop at once instead.
            pytest.exit(f'celery_wire_suite: {exc}', returncode=3)
        yield WorkerProcess(proc, hostname, log_path)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _delay_client_wait(seconds):
    """CELERY_SUITE_CLIENT_DELAY: stall the client inside ``AsyncResult.get``, between its first
    check of the parents (``_maybe_reraise_parent_error``) and its first read of the result
    (``wait_for_pending`` → ``on_wait_for_pending``), as a loaded machine does now and then.

    It shows a race in Celery 5.7's client, not in a worker: 5.7's ``drain_events_until`` loops
    ``while not p.ready`` (5.6: ``while 1``), so a result found ready by that first read never
    runs ``on_interval`` — the parents are not checked again, and a chord body's ``ChordError``
    is raised where the header task's own exception is expected.
    """
    from celery.backends.asynchronous import AsyncBackendMixin
    original = AsyncBackendMixin.wait_for_pending

    def wait_for_pending(self, result, *args, **kwargs):
        time.sleep(seconds)
        return original(self, result, *args, **kwargs)

    AsyncBackendMixin.wait_for_pending = wait_for_pending


if os.environ.get('CELERY_SUITE_CLIENT_DELAY'):
    _delay_client_wait(float(os.environ['CELERY_SUITE_CLIENT_DELAY']))


# The suite's conftest does `from celery.contrib.pytest import celery_session_worker`; this
# module is loaded first (-p), so the name it imports is ours.
celery_pytest.celery_session_worker = celery_session_worker


def pytest_configure(config):
    config.addinivalue_line('markers', 'celery(**overrides): override celery configuration')


def _not_applicable():
    path = os.path.join(HERE, 'not-applicable.txt')
    out = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            nodeid, _, reason = line.partition(' # ')
            out[nodeid.strip()] = reason.strip()
    return out


def pytest_ignore_collect(collection_path, config):
    """Whole files listed as not applicable are not imported at all: they import optional
    client libraries (azure, sqlalchemy, cryptography) that the suite's venv does not have, and
    an import error would stop the collection of the full suite."""
    rel = os.path.relpath(str(collection_path), str(config.rootpath)).replace(os.sep, '/')
    if '::' not in rel and rel in _not_applicable():
        return True
    return None


def pytest_collection_modifyitems(session, config, items):
    """Deselect the checked-in not-applicable tests (not-applicable.txt: node id prefix # reason)."""
    na = _not_applicable()
    keep, drop = [], []
    for item in items:
        nid = item.nodeid
        if any(nid == p or nid.startswith(p + '::') or nid.startswith(p + '[') for p in na):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
