"""What Celery's eager mode returns, as JSON facts for src/eager/eager-facts.test.ts.

Run with the peer venv: ``python-peers/.venv-5.7/bin/python python-peers/peer/eager_facts.py``.
Every case mirrors one in the TypeScript test; only observable facts are printed (state, result,
exception type and args, traceback presence, retries seen, parent chain, raised exceptions).
"""
import json

from celery import Celery, chain, chord, group
from celery.exceptions import Ignore, Reject
from celery.result import EagerResult, GroupResult

app = Celery('eager_facts', broker='memory://', backend='cache+memory://')
app.conf.task_always_eager = True
app.conf.task_eager_propagates = False

seen = {}


@app.task(name='t.add')
def add(x, y):
    return x + y


@app.task(name='t.tsum')
def tsum(xs):
    return sum(xs)


@app.task(name='t.boom')
def boom(*args):
    raise ValueError('boom')


@app.task(name='t.flaky', bind=True, max_retries=3)
def flaky(self, until):
    seen.setdefault('flaky', []).append(self.request.retries)
    if self.request.retries < until:
        raise self.retry(countdown=60)
    return self.request.retries


@app.task(name='t.always_retry', bind=True, max_retries=2)
def always_retry(self):
    seen.setdefault('always_retry', []).append(self.request.retries)
    raise self.retry(countdown=1)


@app.task(name='t.retry_exc', bind=True, max_retries=1)
def retry_exc(self):
    seen.setdefault('retry_exc', []).append(self.request.retries)
    raise self.retry(exc=KeyError('k'), countdown=1)


@app.task(name='t.rejecting')
def rejecting():
    raise Reject('no', requeue=False)


@app.task(name='t.ignoring')
def ignoring():
    raise Ignore()


@app.task(name='t.record')
def record(value):
    seen.setdefault('record', []).append(value)
    return value


@app.task(name='t.outer', bind=True)
def outer(self):
    inner = whoami.delay()
    return [self.request.id, self.request.root_id, inner.result]


@app.task(name='t.whoami', bind=True)
def whoami(self):
    return [self.request.id, self.request.parent_id, self.request.root_id]


@app.task(name='t.kw')
def kw(a, b=2, *, c=3):
    return [a, b, c]


def exc_fact(e):
    return {'type': type(e).__name__, 'args': [repr(a) for a in e.args]}


def result_fact(r):
    if isinstance(r, GroupResult):
        return {'kind': 'group', 'results': [result_fact(c) for c in r.results]}
    fact = {'kind': 'eager' if isinstance(r, EagerResult) else type(r).__name__,
            'state': r.state, 'ready': r.ready(), 'traceback': r.traceback is not None,
            'name': r.name}
    if fact['state'] == 'FAILURE' and r.name == 't.always_retry':
        fact['message'] = str(r.result).replace(r.id, '<id>')
    if isinstance(r.result, BaseException):
        fact['exception'] = exc_fact(r.result)
        # Task ids differ between runs: a message naming the task's own id is compared without it.
        fact['exception']['args'] = [a.replace(r.id, '<id>') for a in fact['exception']['args']]
    else:
        fact['result'] = r.result
    return fact


def raised(f):
    try:
        r = f()
    except Exception as e:  # noqa: BLE001 - the fact is which exception
        return {'raised': exc_fact(e)}
    return {'returned': result_fact(r)}


def parents(r):
    out = []
    while r is not None:
        out.append(r.result if not isinstance(r, GroupResult) else r.get())
        r = r.parent
    return out


facts = {}
facts['success'] = result_fact(add.delay(2, 3))
facts['kwargs'] = result_fact(kw.apply_async((1,), {'c': 9}))
fail = boom.delay()
facts['failure'] = result_fact(fail)
facts['failure_get'] = raised(lambda: fail.get())
facts['failure_get_nopropagate'] = exc_fact(fail.get(propagate=False))
app.conf.task_eager_propagates = True
facts['failure_propagates'] = raised(lambda: boom.delay())
app.conf.task_eager_propagates = False
r = flaky.delay(2)
facts['retry_then_success'] = {**result_fact(r), 'retries_seen': seen['flaky']}
r = always_retry.delay()
facts['retry_exhausted'] = {**result_fact(r), 'retries_seen': seen['always_retry']}
r = retry_exc.delay()
facts['retry_exhausted_exc'] = {**result_fact(r), 'retries_seen': seen['retry_exc']}
facts['reject'] = result_fact(rejecting.delay())
facts['ignore'] = result_fact(ignoring.delay())
r = add.delay(1, 1)
r.revoke()
facts['revoked'] = {**result_fact(r), 'get': raised(lambda: r.get())}
facts['ignore_result'] = result_fact(add.apply_async((4, 4), ignore_result=True))
seen.pop('record', None)
facts['link'] = {**result_fact(add.apply_async((1, 1), link=record.s())),
                 'callback_got': list(seen.get('record', []))}
r = outer.delay()
own_id, own_root, (inner_id, inner_parent, inner_root) = r.get()
facts['nested_parent'] = {'root_is_own_id': own_root == own_id,
                          'inner_parent_is_outer': inner_parent == own_id,
                          'inner_root_is_outer_root': inner_root == own_root}
r = chain(add.s(1, 2), add.s(3), add.s(4)).delay()
facts['chain'] = {**result_fact(r), 'parents': parents(r)}
facts['chain_failure'] = raised(lambda: chain(add.s(1, 2), boom.s(), add.s(4)).delay())
r = chain(add.s(1, 2), boom.s()).delay()
facts['chain_last_fails'] = result_fact(r)
r = chain(whoami.s(), whoami.si()).delay()
first, second = r.parent.result, r.result
facts['chain_ids'] = {'first_parent': first[1], 'second_parent_is_none': second[1] is None}
facts['group'] = result_fact(group(add.s(i, i) for i in range(3)).delay())
facts['group_get'] = group(add.s(i, i) for i in range(3)).delay().get()
facts['group_partial'] = group(add.s(1), add.s(2)).delay(10).get()
facts['group_failure'] = result_fact(group(add.s(1, 1), boom.s()).delay())
facts['group_failure_get'] = raised(lambda: group(add.s(1, 1), boom.s()).delay().get())
facts['chord'] = result_fact(chord(add.s(i, i) for i in range(3))(tsum.s()))
facts['chord_failure'] = raised(lambda: chord([add.s(1, 1), boom.s()])(tsum.s()))
facts['chain_group_chord'] = result_fact(
    chain(add.s(1, 1), group(add.s(1), add.s(2)), tsum.s()).delay())

app2 = Celery('eager_store', broker='memory://', backend='cache+memory://')
app2.conf.task_always_eager = True
app2.conf.task_store_eager_result = True


def plus(x, y):
    return x + y


add2 = app2.task(name='t.add')(plus)
r = add2.delay(5, 5)
facts['store_eager_result'] = {'backend_state': app2.AsyncResult(r.id).state,
                               'backend_result': app2.AsyncResult(r.id).result}
app3 = Celery('eager_nostore', broker='memory://', backend='cache+memory://')
app3.conf.task_always_eager = True
add3 = app3.task(name='t.add')(plus)
r = add3.delay(5, 5)
facts['no_store_eager_result'] = {'backend_state': app3.AsyncResult(r.id).state}

print(json.dumps(facts, indent=1, sort_keys=True))
