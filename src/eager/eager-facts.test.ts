/**
 * Eager mode against real Celery 5.7: `python-peers/peer/eager_facts.py` runs the same cases
 * under `task_always_eager` and prints what Celery returns; every fact must match here.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createApp, type CeleryApp } from '../app/app';
import type { AsyncResult } from '../client/async-result';
import { GroupResult, type CanvasResult } from '../canvas/results';
import { chain, chord, group } from '../canvas/primitives';
import { s, si } from '../canvas/signature';
import { applyCanvas } from '../canvas/index';
import { exceptionFromDict } from '../protocol/exception';
import { pyRepr } from '../protocol/repr';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { Ignore, PythonError, Reject } from '../worker/exceptions';
import { defineTask, type TaskContext } from '../worker/task';
import { EagerResult } from './eager-result';

const ROOT = join(__dirname, '..', '..');
const PY = join(ROOT, 'python-peers', '.venv-5.7', 'bin', 'python');

type Facts = Record<string, unknown>;
let facts: Facts;
const seen: Record<string, PyValue[]> = {};
const note = (k: string, v: PyValue): void => {
  (seen[k] ??= []).push(v);
};

const num = (v: unknown): number => Number(v);
const tasks = [
  defineTask('t.add', (x: PyValue, y: PyValue) => num(x) + num(y), { params: ['x', 'y'] }),
  defineTask('t.tsum', (xs: PyValue) => (xs as PyValue[]).reduce<number>((a, b) => a + num(b), 0), {
    params: ['xs'],
  }),
  defineTask(
    't.boom',
    () => {
      throw new PythonError('ValueError', 'boom');
    },
    { varKwargs: true },
  ),
  defineTask(
    't.flaky',
    (ctx: TaskContext, until: PyValue) => {
      note('flaky', ctx.retries);
      if (ctx.retries < num(until)) return ctx.retry({ countdown: 60 });
      return ctx.retries;
    },
    { bind: true, params: ['until'], maxRetries: 3 },
  ),
  defineTask(
    't.always_retry',
    (ctx: TaskContext) => {
      note('always_retry', ctx.retries);
      return ctx.retry({ countdown: 1 });
    },
    { bind: true, params: [], maxRetries: 2 },
  ),
  defineTask(
    't.retry_exc',
    (ctx: TaskContext) => {
      note('retry_exc', ctx.retries);
      return ctx.retry({ exc: new PythonError('KeyError', "'k'", { args: ['k'] }), countdown: 1 });
    },
    { bind: true, params: [], maxRetries: 1 },
  ),
  defineTask(
    't.rejecting',
    () => {
      throw new Reject('no', false);
    },
    { params: [] },
  ),
  defineTask(
    't.ignoring',
    () => {
      throw new Ignore();
    },
    { params: [] },
  ),
  defineTask(
    't.record',
    (v: PyValue) => {
      note('record', v);
      return v;
    },
    { params: ['value'] },
  ),
  defineTask('t.kw', (a: PyValue, b: PyValue, c: PyValue) => [a, b, c], {
    params: ['a', 'b', 'c'],
    defaults: { b: 2, c: 3 },
  }),
  defineTask('t.whoami', (ctx: TaskContext) => [ctx.id, ctx.parentId, ctx.rootId], {
    bind: true,
    params: [],
  }),
];

function eagerApp(extra: Parameters<typeof createApp>[0] = {}): CeleryApp {
  const app = createApp({
    brokerUrl: 'memory://eager-facts',
    resultBackend: 'cache+memory://eager-facts',
    taskAlwaysEager: true,
    tasks,
    ...extra,
  });
  app.register(
    defineTask(
      't.outer',
      async (ctx: TaskContext) => {
        const inner = await app.sendTask('t.whoami');
        return [ctx.id, ctx.rootId, await inner.result];
      },
      { bind: true, params: [] },
    ),
  );
  return app;
}

function asEager(r: AsyncResult): EagerResult {
  if (!(r instanceof EagerResult)) throw new Error(`not an EagerResult: ${r.id}`);
  const e: EagerResult = r;
  return e;
}

function excFact(type: string, args: readonly unknown[]): Facts {
  return { type, args: args.map((a) => pyRepr(a as PyValue)) };
}

async function resultFact(r: CanvasResult): Promise<Facts> {
  if (r instanceof GroupResult) {
    const results: Facts[] = [];
    for (const c of r.results) results.push(await resultFact(c));
    return { kind: 'group', results };
  }
  const m = await r.meta();
  const fact: Facts = {
    kind: r instanceof EagerResult ? 'eager' : r.constructor.name,
    state: m.status,
    ready: await r.ready(),
    traceback: m.traceback !== null,
    name: r instanceof EagerResult ? r.name : null,
  };
  if (m.status === 'FAILURE' && fact.name === 't.always_retry') {
    const e = exceptionFromDict(m.result);
    fact.message = e.message.replace(r.id, '<id>');
  }
  if (isPyDict(m.result) && typeof m.result.exc_type === 'string') {
    const e = exceptionFromDict(m.result);
    const ex = excFact(e.excType, e.args);
    // Task ids differ between runs: a message naming the task's own id is compared without it.
    ex.args = (ex.args as string[]).map((a) => a.replace(r.id, '<id>'));
    fact.exception = ex;
  } else fact.result = m.result;
  return fact;
}

function errFact(e: unknown): Facts {
  const x = e as { excType?: string; excArgs?: readonly unknown[]; name?: string };
  if (x.excType !== undefined) return excFact(x.excType, x.excArgs ?? []);
  // TaskRevokedError (celery-wire's, from `get()`): Celery's `TaskRevokedError('revoked')`.
  return excFact(x.name ?? 'Error', [(e as Error).message]);
}

async function raised(f: () => Promise<CanvasResult>): Promise<Facts> {
  try {
    return { returned: await resultFact(await f()) };
  } catch (e) {
    return { raised: errFact(e) };
  }
}

async function parents(r: CanvasResult | null): Promise<PyValue[]> {
  const out: PyValue[] = [];
  for (let x = r; x; x = x.parent)
    out.push(x instanceof GroupResult ? await x.get() : await x.result);
  return out;
}

beforeAll(() => {
  const out = execFileSync(PY, [join(ROOT, 'python-peers', 'peer', 'eager_facts.py')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  facts = JSON.parse(out) as Facts;
}, 60_000);

describe('eager mode matches Celery 5.7 (python-peers/peer/eager_facts.py)', () => {
  const app = eagerApp();
  const run = async (name: string, args: PyValue[] = [], o = {}) =>
    asEager(await app.sendTask(name, { args, ...o }));

  it('success, kwargs binding, ignore_result', async () => {
    expect(await resultFact(await run('t.add', [2, 3]))).toEqual(facts.success);
    expect(await resultFact(await run('t.kw', [1], { kwargs: { c: 9 } }))).toEqual(facts.kwargs);
    expect(await resultFact(await run('t.add', [4, 4], { ignoreResult: true }))).toEqual(
      facts.ignore_result,
    );
  });

  it('failure: FAILURE with traceback; get() throws; propagate:false returns the exception', async () => {
    const r = await run('t.boom');
    expect(await resultFact(r)).toEqual(facts.failure);
    expect(await raised(async () => (await r.get(), r))).toEqual(facts.failure_get);
    const doc = await r.get({ propagate: false });
    const e = exceptionFromDict(doc);
    expect(excFact(e.excType, e.args)).toEqual(facts.failure_get_nopropagate);
  });

  it('task_eager_propagates: the call itself throws what the task threw', async () => {
    const p = eagerApp({ taskEagerPropagates: true });
    expect(await raised(async () => asEager(await p.sendTask('t.boom')))).toEqual(
      facts.failure_propagates,
    );
  });

  it('retries run inline with retries + 1 until success or max_retries', async () => {
    const r1 = await run('t.flaky', [2]);
    expect({ ...(await resultFact(r1)), retries_seen: seen.flaky }).toEqual(
      facts.retry_then_success,
    );
    const r2 = await run('t.always_retry');
    expect({ ...(await resultFact(r2)), retries_seen: seen.always_retry }).toEqual(
      facts.retry_exhausted,
    );
    const r3 = await run('t.retry_exc');
    expect({ ...(await resultFact(r3)), retries_seen: seen.retry_exc }).toEqual(
      facts.retry_exhausted_exc,
    );
  });

  it('Reject and Ignore end REJECTED / IGNORED; revoke() makes REVOKED', async () => {
    expect(await resultFact(await run('t.rejecting'))).toEqual(facts.reject);
    expect(await resultFact(await run('t.ignoring'))).toEqual(facts.ignore);
    const r = await run('t.add', [1, 1]);
    await r.revoke();
    expect({ ...(await resultFact(r)), get: await raised(async () => (await r.get(), r)) }).toEqual(
      facts.revoked,
    );
  });

  it('link callbacks run eagerly; nested calls get parent_id/root_id', async () => {
    seen.record = [];
    const r = await run('t.add', [1, 1], { link: s('t.record').toDict() });
    expect({ ...(await resultFact(r)), callback_got: seen.record }).toEqual(facts.link);
    const o = await run('t.outer');
    const [ownId, ownRoot, inner] = (await o.get()) as [string, string, PyValue[]];
    expect({
      root_is_own_id: ownRoot === ownId,
      inner_parent_is_outer: inner[1] === ownId,
      inner_root_is_outer_root: inner[2] === ownRoot,
    }).toEqual(facts.nested_parent);
  });

  it('chains: previous result passed on, parents linked, a failing step throws', async () => {
    const r = await applyCanvas(chain(s('t.add', [1, 2]), s('t.add', [3]), s('t.add', [4])), app);
    expect({ ...(await resultFact(r)), parents: await parents(r) }).toEqual(facts.chain);
    expect(
      await raised(() => applyCanvas(chain(s('t.add', [1, 2]), s('t.boom'), s('t.add', [4])), app)),
    ).toEqual(facts.chain_failure);
    const last = await applyCanvas(chain(s('t.add', [1, 2]), s('t.boom')), app);
    expect(await resultFact(last)).toEqual(facts.chain_last_fails);
    const ids = await applyCanvas(chain(s('t.whoami'), si('t.whoami')), app);
    const first = (await ids.parent?.get()) as PyValue[];
    const second = (await ids.get()) as PyValue[];
    expect({ first_parent: first[1], second_parent_is_none: second[1] === null }).toEqual(
      facts.chain_ids,
    );
  });

  it('groups: results in order, partial args, failures kept per member, get() throws', async () => {
    const g = () => group(...[0, 1, 2].map((i) => s('t.add', [i, i])));
    expect(await resultFact(await applyCanvas(g(), app))).toEqual(facts.group);
    expect(await (await applyCanvas(g(), app)).get()).toEqual(facts.group_get);
    const partial = await applyCanvas(group(s('t.add', [1]), s('t.add', [2])), app, {
      args: [10],
    });
    expect(await partial.get()).toEqual(facts.group_partial);
    const bad = () => group(s('t.add', [1, 1]), s('t.boom'));
    expect(await resultFact(await applyCanvas(bad(), app))).toEqual(facts.group_failure);
    expect(
      await raised(async () => {
        const r = await applyCanvas(bad(), app);
        await r.get();
        return r;
      }),
    ).toEqual(facts.group_failure_get);
  });

  it('chords: body gets the header results; a failing header throws', async () => {
    const c = chord(
      [0, 1, 2].map((i) => s('t.add', [i, i])),
      s('t.tsum'),
    );
    expect(await resultFact(await applyCanvas(c, app))).toEqual(facts.chord);
    expect(
      await raised(() => applyCanvas(chord([s('t.add', [1, 1]), s('t.boom')], s('t.tsum')), app)),
    ).toEqual(facts.chord_failure);
    const mixed = chain(s('t.add', [1, 1]), group(s('t.add', [1]), s('t.add', [2])), s('t.tsum'));
    expect(await resultFact(await applyCanvas(mixed, app))).toEqual(facts.chain_group_chord);
  });

  it('task_store_eager_result writes the result to the backend; otherwise nothing is stored', async () => {
    const store = eagerApp({
      taskStoreEagerResult: true,
      resultBackend: 'cache+memory://eager-facts-store',
    });
    const r = await store.sendTask('t.add', { args: [5, 5] });
    const back = store.asyncResult(r.id);
    expect({ backend_state: await back.state, backend_result: await back.result }).toEqual(
      facts.store_eager_result,
    );
    const none = eagerApp({ resultBackend: 'cache+memory://eager-facts-nostore' });
    const r2 = await none.sendTask('t.add', { args: [5, 5] });
    expect({ backend_state: await none.asyncResult(r2.id).state }).toEqual(
      facts.no_store_eager_result,
    );
  });
});
