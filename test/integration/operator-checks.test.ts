import { writeFileSync } from 'node:fs';
import { uniq } from '../support/worker/int-helpers';
import { OperatorRig, sleep, type Pair } from '../support/operator-rig';
import type { Side } from '../support/operator-checks';

jest.setTimeout(300_000);

type Rec = Record<string, unknown>;

/**
 * Issue 11's recount as a repeatable checklist: every `celery inspect` and `celery control`
 * command of Celery 5.7 (`celery/worker/control.py`), plus `status`, `result` and `purge`, run by
 * Celery's own CLI against a Python 5.7 prefork worker and a `celery-wire worker -P prefork` on
 * Redis with the same layout; each operator-visible aspect of the replies and of the commands'
 * effects is one row. Every row must match or be a documented difference (ALLOWED).
 */
describe('operator checks: Celery 5.7 CLI against Python prefork and TS workers', () => {
  const rig = new OperatorRig(uniq('opchk'));
  const { list, py, ts, pyA, tsA, events } = rig;
  const q = (s: Side): string => rig.q(s);
  const both = rig.both.bind(rig);
  const each = rig.each.bind(rig);
  const eachReply = rig.eachReply.bind(rig);
  const send = rig.send.bind(rig);
  const status = rig.status.bind(rig);
  const until = rig.until.bind(rig);
  const value = rig.value.bind(rig);

  beforeAll(() => rig.start());
  afterAll(async () => {
    console.log(`${list.table()}\n`);
    // `OPERATOR_CHECKS_TABLE=<file>`: the table for docs/operator-checks.md.
    const out = process.env.OPERATOR_CHECKS_TABLE;
    if (out) writeFileSync(out, `${list.table()}\n`);
    await rig.stop();
  });

  it('inspect commands on idle workers', async () => {
    const forms = [
      ['inspect', 'ping'],
      ['inspect', 'active'],
      ['inspect', 'reserved'],
      ['inspect', 'scheduled'],
      ['inspect', 'revoked'],
      ['inspect', 'active_queues'],
      ['inspect', 'registered'],
      ['inspect', 'registered', 'serializer', 'max_retries'],
      ['inspect', 'registered', 'exchange', 'routing_key', 'rate_limit'],
      ['inspect', 'registered', 'acks_late', 'reject_on_worker_lost'],
      ['inspect', 'registered', 'ignore_result', 'store_errors_even_if_ignored'],
      ['inspect', 'registered', 'default_retry_delay'],
      ['inspect', 'registered', 'send_events', 'track_started'],
      ['inspect', 'registered', 'time_limit', 'soft_time_limit'],
      ['inspect', 'registered', 'priority', 'expires', 'typing'],
      ['inspect', 'query_task', 'no-such-id'],
      ['inspect', 'memsample'],
      ['inspect', 'memdump'],
      ['inspect', 'memdump', '5'],
      ['inspect', 'objgraph'],
      ['inspect', 'objgraph', 'Request', '10'],
    ];
    // Six CLI processes at a time (2 cores), rowed in this order (the table reads the same
    // every run).
    const got: [unknown, unknown][] = [];
    for (let i = 0; i < forms.length; i += 6) {
      got.push(...(await Promise.all(forms.slice(i, i + 6).map((f) => both(f)))));
    }
    forms.forEach((f, i) => {
      list.add(`celery ${f.join(' ')}`, 'reply', got[i]?.[0], got[i]?.[1], 'value');
    });
    const [[pc, tc], [ps, tsSt], [pst, tst], [pr, tr], [pcf, tcf], [pcd, tcd]] = await Promise.all([
      both(['inspect', 'clock']),
      both(['inspect', 'stats']),
      each((s) => ['status', '--json', '-d', s.node]),
      both(['inspect', 'report']),
      both(['inspect', 'conf']),
      both(['inspect', 'conf', '1']),
    ]);
    list.add('celery inspect clock', 'reply', pc, tc, 'shape');
    // Lamport clock and uptime: compared by type (they depend on traffic and start time).
    list.addFields('celery inspect stats', '', ps, tsSt, ['rusage', 'clock', 'uptime', 'pool']);
    const rusage = (x: unknown): unknown => (x as Rec | undefined)?.rusage;
    list.add('celery inspect stats', 'rusage values', rusage(ps), rusage(tsSt), 'value');
    const pool = (x: unknown): Rec => ((x as Rec | undefined)?.pool ?? {}) as Rec;
    list.addFields('celery inspect stats', 'pool.', pool(ps), pool(tsSt), ['processes']);
    const procs = (x: unknown): unknown[] => (pool(x).processes ?? []) as unknown[];
    list.add(
      'celery inspect stats',
      'pool.processes count',
      procs(ps).length,
      procs(tsSt).length,
      'value',
    );
    list.add('celery inspect stats', 'pool.processes ids', procs(ps), procs(tsSt), 'value');
    list.add('celery status', 'output', pst.stdout, tst.stdout, 'value');
    list.add('celery status', 'exit code', pst.code, tst.code, 'value');
    const rep = (x: unknown): string => {
      const ok = (x as Rec | undefined)?.ok;
      return typeof ok === 'string' ? ok : '';
    };
    const line = (x: unknown, re: RegExp): string =>
      rep(x)
        .split('\n')
        .find((l) => re.test(l)) ?? '';
    list.add('celery inspect report', 'reply keys', pr, tr, 'shape');
    list.add('celery inspect report', 'software/platform text', rep(pr), rep(tr), 'value');
    for (const re of [/^settings ->/, /^broker_url:/, /^result_backend:/, /^accept_content:/]) {
      list.add('celery inspect report', `line ${re.source}`, line(pr, re), line(tr, re), 'value');
    }
    for (const [label, p, t] of [
      ['', pcf, tcf],
      [' 1', pcd, tcd],
    ] as const) {
      const pk = Object.keys(p ?? {});
      const tk = Object.keys(t ?? {});
      // The names only one side lists ([] and [] when both list the same settings).
      const only = (a: string[], b: string[]): string[] => a.filter((k) => !b.includes(k)).sort();
      list.add(
        `celery inspect conf${label}`,
        'setting names only one side lists',
        only(pk, tk),
        only(tk, pk),
        'value',
      );
      const common = pk.filter((k) => tk.includes(k));
      const pick = (x: unknown): Rec =>
        Object.fromEntries(common.map((k): [string, unknown] => [k, (x as Rec)[k]]));
      const differing = common.filter(
        (k) => JSON.stringify((p as Rec)[k]) !== JSON.stringify((t as Rec)[k]),
      );
      list.add(
        `celery inspect conf${label}`,
        `values of the ${String(common.length)} settings both list`,
        differing.length === 0 ? pick(p) : differing.map((k) => [k, (p as Rec)[k]]),
        differing.length === 0 ? pick(t) : differing.map((k) => [k, (t as Rec)[k]]),
        'value',
      );
    }
  });

  it('control commands and their effects', async () => {
    const setRate = ['control', 'rate_limit', 'conformance.add', '10/m'];
    await value(setRate);
    await value(['inspect', 'registered', 'rate_limit']);
    await value(['control', 'rate_limit', 'no.such.task', '1/s']);
    await value(['control', 'rate_limit', 'conformance.add', 'bogus']);
    await value(['control', 'rate_limit', 'conformance.add', '10/min']);
    await value(['control', 'time_limit', 'no.such.task', '5']);
    await value(['control', 'time_limit', 'conformance.context', '5', '10']);
    await value(['inspect', 'registered', 'time_limit', 'soft_time_limit']);
    await value(['control', 'rate_limit', 'conformance.add', '0']);
    await value(['inspect', 'registered', 'rate_limit']);

    // Queues: add_consumer (plain and with exchange/type/routing key), cancel_consumer.
    const [pAdd, tAdd] = await eachReply((s) => ['control', 'add_consumer', `${q(s)}-x`]);
    list.add('celery control add_consumer <q>-x', 'reply', pAdd, tAdd, 'value');
    const [pAdd2, tAdd2] = await eachReply((s) => [
      'control',
      'add_consumer',
      `${q(s)}-y`,
      `${q(s)}-yx`,
      'topic',
      'ry.#',
    ]);
    list.add('celery control add_consumer <q>-y <q>-yx topic ry.#', 'reply', pAdd2, tAdd2, 'value');
    await sleep(1000);
    const aq = async (aspect: string): Promise<void> => {
      const [p, t] = await both(['inspect', 'active_queues']);
      const byName = (x: unknown): Rec =>
        Object.fromEntries(((x ?? []) as Rec[]).map((e) => [String(e.name), e]));
      const pn = byName(p);
      const tn = byName(t);
      list.add(
        'celery inspect active_queues',
        `${aspect}: queue names`,
        Object.keys(pn).sort(),
        Object.keys(tn).sort(),
        'value',
      );
      for (const n of ['<w>-x', '<w>-y']) {
        if (pn[n] !== undefined || tn[n] !== undefined) {
          list.add('celery inspect active_queues', `${aspect}: ${n} entry`, pn[n], tn[n], 'value');
        }
      }
    };
    await aq('after add_consumer');
    const [pX, tX] = await send('x', 'conformance.add', { args: [2, 3], queue: '-x' });
    const got = (id: string): Promise<unknown> => rig.result(id);
    list.add('task on the added queue <q>-x', 'result', await got(pX), await got(tX), 'value');
    const [pCan, tCan] = await eachReply((s) => ['control', 'cancel_consumer', `${q(s)}-x`]);
    list.add('celery control cancel_consumer <q>-x', 'reply', pCan, tCan, 'value');
    await value(['control', 'cancel_consumer', 'no-such-queue']);
    await sleep(1000);
    await aq('after cancel_consumer');
    // Messages on a cancelled queue wait there; `celery purge` (the operator's cleanup) counts them.
    const [l1, l2] = await send('left1', 'conformance.add', { args: [1, 1], queue: '-x' });
    await send('left2', 'conformance.add', { args: [1, 2], queue: '-x' });
    await sleep(1500);
    list.add(
      'task on a cancelled queue',
      'state after 1.5 s',
      await status(l1),
      await status(l2),
      'value',
    );
    const [pPur, tPur] = await each((s) => ['purge', '-f', '-Q', `${q(s)}-x`]);
    list.add('celery purge -f -Q <q>-x', 'output', pPur.stdout, tPur.stdout, 'value');
    await Promise.all([eachReply((s) => ['control', 'cancel_consumer', `${q(s)}-y`])]);

    // Revocation records.
    await value(['control', 'revoke', 'rid-1', 'rid-2']);
    await value(['control', 'terminate', 'SIGTERM', 'rid-3']);
    await value(['control', 'revoke_by_stamped_headers', 'mon=opchk']);
    const [pRv, tRv] = await both(['inspect', 'revoked']);
    const sorted = (x: unknown): unknown => (Array.isArray(x) ? [...(x as string[])].sort() : x);
    list.add('celery inspect revoked', 'after revoke/terminate', sorted(pRv), sorted(tRv), 'value');
    const [pSt, tSt] = await send('stamped', 'conformance.add', {
      args: [1, 1],
      headers: { stamped_headers: ['mon'], stamps: { mon: ['opchk'] } },
    });
    await until('stamped tasks handled', async () =>
      (await Promise.all([status(pSt), status(tSt)])).every((x) => x !== 'PENDING'),
    ).catch(() => undefined);
    list.add(
      'task stamped mon=opchk after revoke_by_stamped_headers',
      'state',
      await status(pSt),
      await status(tSt),
      'value',
    );

    // Events: enable/disable (a -E worker keeps sending), heartbeat.
    await value(['control', 'enable_events']);
    await value(['control', 'disable_events']);
    const mark = events.length;
    const [pEv, tEv] = await send('ev', 'conformance.add', { args: [4, 4] });
    await Promise.all([got(pEv), got(tEv)]);
    await sleep(1000);
    const sent = (id: string): string[] =>
      events
        .slice(mark)
        .filter((e) => e.uuid === id)
        .map((e) => e.type)
        .sort();
    list.add('task events after disable_events', 'event types seen', sent(pEv), sent(tEv), 'value');
    const hbMark = events.length;
    await value(['control', 'heartbeat']);
    await sleep(500);
    const beat = (s: Side): boolean =>
      events.slice(hbMark).some((e) => e.type === 'worker-heartbeat' && e.hostname === s.node);
    list.add(
      'celery control heartbeat',
      'worker-heartbeat sent at once',
      beat(py),
      beat(ts),
      'value',
    );
    await value(['control', 'election']);
    await value(['control', 'pool_restart']);
    await value(['control', 'autoscale', '3', '1']);

    // Pool size: pool_grow / pool_shrink and what stats reports.
    // billiard grows/shrinks the pool from its maintenance loop: wait for the new size.
    const size = async (want: number): Promise<[unknown, unknown]> => {
      let [p, t] = await both(['inspect', 'stats']);
      const n = (x: unknown): unknown =>
        (((x as Rec | undefined)?.pool as Rec | undefined)?.processes as unknown[] | undefined)
          ?.length;
      for (let i = 0; i < 20 && (n(p) !== want || n(t) !== want); i++) {
        await sleep(250);
        [p, t] = await both(['inspect', 'stats']);
      }
      const f = (x: unknown): unknown => {
        const pl = ((x as Rec | undefined)?.pool ?? {}) as Rec;
        return {
          'max-concurrency': pl['max-concurrency'],
          processes: (pl.processes as unknown[] | undefined)?.length,
          timeouts: pl.timeouts,
        };
      };
      return [f(p), f(t)];
    };
    await value(['control', 'pool_grow', '1']);
    const [pg, tg] = await size(3);
    list.add('celery inspect stats after pool_grow 1', 'pool size', pg, tg, 'value');
    await value(['control', 'pool_shrink', '1']);
    const [psh, tsh] = await size(2);
    list.add('celery inspect stats after pool_shrink 1', 'pool size', psh, tsh, 'value');
  });

  it('tasks: active, reserved, scheduled, query_task, revoke, terminate, result', async () => {
    const waitActive = (n: number): Promise<void> =>
      until(`${String(n)} active on both`, async () => {
        const [p, t] = await both(['inspect', 'active']);
        return [p, t].every((x) => Array.isArray(x) && x.length === n);
      });
    // Two slow tasks fill the -c 2 pools; a third waits reserved, a countdown one is scheduled.
    const [pS1, tS1] = await send('s1', 'conformance.sleep', { args: [12] });
    const [pS2, tS2] = await send('s2', 'conformance.sleep', { args: [12] });
    await waitActive(2);
    const [pR, tR] = await send('r1', 'conformance.add', { args: [2, 3] });
    const [pC, tC] = await send('c1', 'conformance.add', { args: [5, 5], countdown: 30 });
    await sleep(1000);
    const [[pa, ta], [pr, tr], [psc, tsc], [pq, tq], [pst0, tst0]] = await Promise.all([
      both(['inspect', 'active']),
      both(['inspect', 'reserved']),
      both(['inspect', 'scheduled']),
      eachReply((x) => {
        const ids = [...x.subst].filter(([, v]) => /^<id:(s1|r1|c1)>$/.test(v)).map(([k]) => k);
        return ['inspect', 'query_task', ...ids];
      }),
      both(['inspect', 'stats']),
    ]);
    const byId = (x: unknown): Rec[] =>
      ((x ?? []) as Rec[]).slice().sort((a, b) => String(a.id).localeCompare(String(b.id)));
    list.add(
      'celery inspect active',
      'count with 2 running',
      byId(pa).length,
      byId(ta).length,
      'value',
    );
    list.addFields('celery inspect active', 'request.', byId(pa)[0], byId(ta)[0], ['time_start']);
    // An operator matches a running task to a pool process: worker_pid is one of stats' processes.
    const inPool = (act: unknown, st: unknown): boolean[] => {
      const procs = (((st as Rec | undefined)?.pool as Rec | undefined)?.processes ??
        []) as unknown[];
      return byId(act).map((r) => procs.includes(r.worker_pid));
    };
    list.add(
      'celery inspect active + stats',
      'worker_pid of each running task is in pool.processes',
      inPool(pa, pst0),
      inPool(ta, tst0),
      'value',
    );
    list.add('celery inspect reserved', 'count', byId(pr).length, byId(tr).length, 'value');
    list.addFields('celery inspect reserved', 'request.', byId(pr)[0], byId(tr)[0]);
    list.add('celery inspect scheduled', 'count', byId(psc).length, byId(tsc).length, 'value');
    const sch = (x: unknown): Rec | undefined => byId(x)[0];
    list.addFields('celery inspect scheduled', 'entry.', sch(psc), sch(tsc), ['eta']);
    list.addFields(
      'celery inspect scheduled',
      'entry.request.',
      sch(psc)?.request,
      sch(tsc)?.request,
    );
    const states = (x: unknown): Rec =>
      Object.fromEntries(
        Object.entries((x ?? {}) as Rec).map(([k, v]) => [k, (v as unknown[])[0]]),
      );
    list.add('celery inspect query_task s1 r1 c1', 'states', states(pq), states(tq), 'value');
    list.add('celery inspect query_task s1 r1 c1', 'reply', pq, tq, 'shape');

    // terminate ends s1 (REVOKED); revoke without terminate lets s2 finish (5.7: SUCCESS stays).
    const [pT, tT] = await eachReply((x) => ['control', 'terminate', 'SIGTERM', rig.idOf(x, 's1')]);
    list.add('celery control terminate SIGTERM <running id>', 'reply', pT, tT, 'value');
    const [pV, tV] = await eachReply((x) => ['control', 'revoke', rig.idOf(x, 's2')]);
    list.add('celery control revoke <running id>', 'reply', pV, tV, 'value');
    const [pVc, tVc] = await eachReply((x) => ['control', 'revoke', rig.idOf(x, 'c1')]);
    list.add('celery control revoke <scheduled id>', 'reply', pVc, tVc, 'value');
    const done = async (ids: string[]): Promise<void> =>
      until('tasks finished', async () =>
        (await Promise.all(ids.map(status))).every((x) => !['PENDING', 'STARTED'].includes(x)),
      );
    await done([pS1, tS1, pS2, tS2, pR, tR]);
    const result = async (label: string, extra: string[] = []): Promise<void> => {
      const [p, t] = await each((x) => {
        return ['result', rig.idOf(x, label), ...extra];
      });
      const c = `celery result <${label}> ${extra.join(' ')}`.trim();
      list.add(
        c,
        'output',
        p.code === 0 ? p.stdout : p.stderr,
        t.code === 0 ? t.stdout : t.stderr,
        'value',
      );
    };
    list.add(
      'task terminated by terminate SIGTERM',
      'state',
      await status(pS1),
      await status(tS1),
      'value',
    );
    list.add('task revoked while running', 'state', await status(pS2), await status(tS2), 'value');
    list.add('task revoked while scheduled', 'state', await status(pC), await status(tC), 'value');
    await Promise.all([result('s1'), result('s2'), result('r1')]);
    // 5.6.2+: revoking a finished task records the id but keeps its SUCCESS.
    const [pVf, tVf] = await eachReply((x) => ['control', 'revoke', rig.idOf(x, 'r1')]);
    list.add('celery control revoke <finished id>', 'reply', pVf, tVf, 'value');
    list.add(
      'task revoked after it finished',
      'state',
      await status(pR),
      await status(tR),
      'value',
    );
    await value(['inspect', 'active']);
    await value(['inspect', 'reserved']);

    // Time limits set by control: soft (SoftTimeLimitExceeded), then hard (TimeLimitExceeded).
    await value(['control', 'time_limit', 'conformance.sleep', '1', '30']);
    const [pSo, tSo] = await send('soft', 'conformance.sleep', { args: [5] });
    await done([pSo, tSo]);
    list.add(
      'task past a soft limit set by time_limit',
      'state',
      await status(pSo),
      await status(tSo),
      'value',
    );
    await result('soft');
    await value(['control', 'time_limit', 'conformance.sleep', '0', '1']);
    const [pH, tH] = await send('hard', 'conformance.sleep', { args: [5] });
    await done([pH, tH]);
    list.add(
      'task past a hard limit set by time_limit',
      'state',
      await status(pH),
      await status(tH),
      'value',
    );
    await result('hard');
    const [pF, tF] = await send('fail', 'conformance.fail', { args: ['ValueError', 'boom'] });
    await done([pF, tF]);
    await result('fail');
    await result('fail', ['--traceback']);
    const [pst, tst] = await both(['inspect', 'stats']);
    const total = (x: unknown): unknown => (x as Rec | undefined)?.total;
    list.add('celery inspect stats after tasks', 'total', total(pst), total(tst), 'value');
  });

  it('autoscale workers: stats.autoscaler, autoscale, pool_grow refused', async () => {
    const pair: Pair = [pyA, tsA];
    const [ps, tsS] = await both(['inspect', 'stats'], pair);
    const auto = (x: unknown): unknown => (x as Rec | undefined)?.autoscaler;
    list.addFields('celery inspect stats (--autoscale 3,1)', 'autoscaler.', auto(ps), auto(tsS));
    const mc = (x: unknown): unknown =>
      ((x as Rec | undefined)?.pool as Rec | undefined)?.['max-concurrency'];
    list.add(
      'celery inspect stats (--autoscale 3,1)',
      'pool.max-concurrency',
      mc(ps),
      mc(tsS),
      'value',
    );
    await value(['control', 'autoscale', '4', '2'], pair);
    await until('autoscaler at min 2', async () => {
      const [p, t] = await both(['inspect', 'stats'], pair);
      const n = (x: unknown): number =>
        (((x as Rec | undefined)?.pool as Rec | undefined)?.processes as unknown[] | undefined)
          ?.length ?? 0;
      return n(p) >= 2 && n(t) >= 2;
    });
    const [ps2, ts2] = await both(['inspect', 'stats'], pair);
    list.addFields('celery inspect stats after autoscale 4 2', 'autoscaler.', auto(ps2), auto(ts2));
    const procs = (x: unknown): unknown =>
      (((x as Rec | undefined)?.pool as Rec | undefined)?.processes as unknown[] | undefined)
        ?.length;
    list.add(
      'celery inspect stats after autoscale 4 2',
      'pool.processes count',
      procs(ps2),
      procs(ts2),
      'value',
    );
    await value(['control', 'pool_grow', '1'], pair);
    await value(['control', 'pool_shrink', '1'], pair);
    await value(['control', 'autoscale', '2'], pair);
  });

  it('shutdown, last: the workers exit; the table has no undocumented difference', async () => {
    // `shutdown` raises WorkerShutdown in the handler: no reply, the worker exits.
    const [p, t] = await both(['control', 'shutdown']);
    list.add('celery control shutdown', 'replies', p !== undefined, t !== undefined, 'value');
    await sleep(500);
    const [pp, tp] = await both(['inspect', 'ping']);
    list.add(
      'celery inspect ping after shutdown',
      'answers',
      pp !== undefined,
      tp !== undefined,
      'value',
    );
    console.log(list.count());
    const defects = list.defects();
    expect(defects.map((r) => `${r.command} | ${r.aspect}: py=${r.py} ts=${r.ts}`)).toEqual([]);
    expect(list.rows.length).toBeGreaterThanOrEqual(142);
  });
});
