import { isPyDict, PyDateTime, type PyValue } from '../serialization/py-values';
import { fixtureDialect, listFixtures, loadFixture } from '../../test/support/fixtures';
import { getProfile, type CeleryProfileName } from './profiles';
import { decodeRedisEnvelope, encodeRedisEnvelope } from './redis-envelope';
import {
  chainDict,
  chordDict,
  chunksDict,
  groupDict,
  mapDict,
  parseSignature,
  parseSignatureList,
  signatureDict,
  type SignatureDict,
} from './signature';
import { decodeTaskMessage, encodeTaskMessage } from './task-message';

type Dict = Record<string, PyValue>;
/** The constructs of `cases_canvas.py`; `cs`: the line's signatures carry `chord_size` (4.4/5.0). */
function constructsFor(cs: boolean): Record<string, () => SignatureDict> {
  const o = { withChordSize: cs };
  const add = (...args: PyValue[]): SignatureDict =>
    signatureDict({ ...o, task: 'tasks.add', args });
  return {
    'sig-s': () => add(1, 2),
    'sig-si': () => signatureDict({ ...o, task: 'tasks.add', args: [1, 2], immutable: true }),
    'sig-kwargs': () => signatureDict({ ...o, task: 'tasks.add', kwargs: { x: 1 } }),
    'sig-set': () =>
      signatureDict({
        ...o,
        task: 'tasks.add',
        args: [1, 2],
        options: { queue: 'py', countdown: 5, priority: 3 },
      }),
    chain: () => chainDict([add(1, 2), signatureDict({ ...o, task: 'tasks.mul', args: [3] })], o),
    group: () => groupDict([add(1, 2), add(3, 4)], o),
    chord: () => chordDict([add(1, 2)], signatureDict({ ...o, task: 'tasks.tsum' }), o),
    chunks: () =>
      chunksDict(
        add(),
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        2,
        o,
      ),
    xmap: () =>
      mapDict(
        'xmap',
        add(),
        [
          [1, 2],
          [3, 4],
        ],
        o,
      ),
    xstarmap: () =>
      mapDict(
        'xstarmap',
        add(),
        [
          [1, 2],
          [3, 4],
        ],
        o,
      ),
  };
}

const PINNED_NOW = new PyDateTime('2026-01-02T03:04:05.678901+00:00');

const all = listFixtures('canvas').map(({ file, line }) => loadFixture(file, line));
const dicts = all.filter((f) => f.meta.case.startsWith('dict-'));
const flows = all.filter((f) => !f.meta.case.startsWith('dict-'));

describe('canvas signature dicts', () => {
  it.each(dicts.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const cs = getProfile(`celery-${fx.line}` as CeleryProfileName).signatureChordSize;
    const build = constructsFor(cs)[fx.input.construct as string];
    expect(build).toBeDefined();
    const sig = (build as () => SignatureDict)();
    expect(sig).toEqual(fx.expected.signature);
    expect(Object.keys(sig)).toEqual([
      'task',
      'args',
      'kwargs',
      'options',
      'subtask_type',
      'immutable',
      ...(cs ? ['chord_size'] : []),
    ]);
    expect(parseSignature(fx.expected.signature).task).toBe(sig.task);
  });
});

describe('canvas workflows: every published message decodes and re-encodes byte for byte', () => {
  const msgs = flows.flatMap((fx) =>
    (fx.expected.messages as Dict[]).map((m, k) => [`${fx.file}#${String(k)}`, fx, m] as const),
  );
  it('has workflow messages', () => {
    expect(msgs.length).toBeGreaterThan(10);
  });
  it.each(msgs)('%s', (_name, fx, m) => {
    const redis = m.redis as Dict;
    const env = decodeRedisEnvelope(redis.envelope as string);
    const d = decodeTaskMessage(env.message);
    for (const key of ['callbacks', 'errbacks', 'chain'] as const) {
      parseSignatureList(d.embed[key], `/embed/${key}`);
    }
    if (d.embed.chord) parseSignature(d.embed.chord, '/embed/chord');
    const h = d.headers;
    const v1 = d.protocol === 1;
    const again = encodeTaskMessage(
      {
        task: d.task,
        id: d.id,
        args: d.args,
        kwargs: d.kwargs,
        protocol: d.protocol,
        profile: `celery-${fx.line}` as CeleryProfileName,
        jsonDialect: fixtureDialect(fx),
        eta: (h.eta ?? null) as string | null,
        expires: (h.expires ?? null) as string | null,
        groupId: (v1 ? h.taskset : h.group) as string | null,
        groupIndex: (h.group_index ?? null) as number | null,
        rootId: (h.root_id ?? null) as string | null,
        parentId: (h.parent_id ?? null) as string | null,
        shadow: (h.shadow ?? null) as string | null,
        ignoreResult: (h.ignore_result ?? null) as boolean | null,
        link: d.embed.callbacks,
        linkError: d.embed.errbacks,
        chain: d.embed.chain,
        chord: d.embed.chord,
        replyTo: env.message.properties.reply_to!,
        ...(typeof env.message.properties.delivery_mode === 'number'
          ? { deliveryMode: env.message.properties.delivery_mode }
          : {}),
        ...(typeof env.message.properties.priority === 'number'
          ? { priority: env.message.properties.priority }
          : {}),
        ...(isPyDict(h) && typeof h.argsrepr === 'string' && !v1 ? { argsrepr: h.argsrepr } : {}),
      },
      // The generator's pinned clock (`expiration` = expires - now, in ms).
      { now: PINNED_NOW, origin: (h.origin ?? 'gen0@x') as string, replyTo: '' },
    );
    expect(Buffer.from(again.body).toString()).toBe(Buffer.from(env.message.body).toString());
    expect(
      encodeRedisEnvelope(again, env.deliveryInfo, env.deliveryTag, {
        jsonDialect: fixtureDialect(fx),
      }),
    ).toBe(redis.envelope);
  });
});
