import { pyJsonDumps, pyJsonLoads, type JsonDialect } from '../serialization/python-json';
import { PyDateTime, isPyDict, type PyValue } from '../serialization/py-values';
import {
  fromB64,
  listFixtures,
  loadFixture,
  toB64,
  fixtureDialect,
  type FixtureCase,
} from '../../test/support/fixtures';
import { chordKey, groupMetaKey, taskMetaKey } from './backend-keys';
import { exceptionFromDict, prepareException } from './exception';
import { quirksOf } from './line-quirks';
import type { CeleryProfileName } from './profiles';
import { encodeRedisEnvelope } from './redis-envelope';
import {
  buildResultMeta,
  buildRpcResultBody,
  groupMetaValue,
  parseResultMeta,
  type ResultMetaInput,
} from './result-meta';
import { EXCEPTION_STATES } from './states';

type Dict = Record<string, PyValue>;

/** `value` with dict keys in `like`'s order (fixture inputs are written with sorted keys). */
function reorderLike(value: PyValue | undefined, like: PyValue | undefined): PyValue {
  if (value === undefined) return null;
  if (Array.isArray(value) && Array.isArray(like)) {
    const l = like as readonly PyValue[];
    return (value as readonly PyValue[]).map((v, k) => reorderLike(v, l[k]));
  }
  if (isPyDict(value) && isPyDict(like)) {
    const keys = [
      ...Object.keys(like).filter((k) => k in value),
      ...Object.keys(value).filter((k) => !(k in like)),
    ];
    return Object.fromEntries(keys.map((k) => [k, reorderLike(value[k], like[k])]));
  }
  return value;
}

const dialect = (fx: FixtureCase): JsonDialect => fixtureDialect(fx);

/** Fixture input (state, result, request, …) → ResultMetaInput; `sent` is Celery's document. */
function metaInput(fx: FixtureCase, sent: Dict | undefined): ResultMetaInput {
  const i = fx.input;
  const req = isPyDict(i.request) ? i.request : {};
  let result = i.result ?? null;
  const state = i.state as string;
  if (EXCEPTION_STATES.has(state) && isPyDict(result) && 'exc_type' in result) {
    result = prepareException({
      excType: result.exc_type as string,
      excModule: (result.exc_module ?? null) as string | null,
      args: result.args as PyValue[],
    });
  }
  const di = req.delivery_info;
  return {
    taskId: i.task_id as string,
    state,
    result: reorderLike(result, sent?.result),
    traceback: (i.traceback ?? null) as string | null,
    now: (i.now ?? new PyDateTime('2026-01-02T03:04:05.678901+00:00')) as PyDateTime,
    extended: i.result_extended === true,
    profile: `celery-${fx.line}` as CeleryProfileName,
    request: {
      task: (req.task ?? null) as string | null,
      args: req.args ?? null,
      kwargs: req.kwargs ?? null,
      hostname: (req.hostname ?? null) as string | null,
      retries: (req.retries ?? null) as number | null,
      deliveryInfo: isPyDict(di)
        ? { routing_key: (di.routing_key ?? null) as string | null }
        : null,
      group: (req.group ?? null) as string | null,
      parentId: (req.parent_id ?? null) as string | null,
      children: (req.children ?? []) as PyValue[],
    },
  };
}

const results = listFixtures('result').map(({ file, line }) => loadFixture(file, line));
const rpc = listFixtures('rpc-result').map(({ file, line }) => loadFixture(file, line));
const excs = listFixtures('exception').map(({ file, line }) => loadFixture(file, line));

describe('result fixtures (Redis backend documents)', () => {
  it('has fixtures', () => {
    expect(results.length).toBeGreaterThan(20);
  });
  it.each(results.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const cmds = fx.expected.commands as PyValue[][];
    const set = cmds.find((c) => c[0] === 'set');
    if (fx.meta.case === 'group-save') {
      const gid = fx.input.group_id as string;
      expect(set?.[1]).toBe(groupMetaKey(gid));
      expect(
        pyJsonDumps(groupMetaValue(gid, fx.input.children as string[]), { dialect: dialect(fx) }),
      ).toBe(set?.[2]);
      return;
    }
    if (fx.meta.case === 'chord-part-return') {
      // The join protocol itself belongs to the Redis backend; here: key names and the entry.
      const gid = fx.input.group_id as string;
      const strings = new Set<string>();
      const walk = (v: unknown): void => {
        if (typeof v === 'string') strings.add(v);
        else if (v instanceof Uint8Array) strings.add(Buffer.from(v).toString('utf8'));
        else if (Array.isArray(v)) v.forEach(walk);
        else if (isPyDict(v)) {
          for (const [k, x] of Object.entries(v)) {
            strings.add(k);
            walk(x);
          }
        }
      };
      walk(cmds);
      // 4.4/5.0 keep the size in the body signature (`callback['chord_size']`): no `.s` key.
      const sizeKey = !quirksOf(`celery-${fx.line}` as CeleryProfileName).chordSizeInBody;
      for (const suffix of sizeKey ? (['j', 't', 's'] as const) : (['j', 't'] as const))
        expect(strings).toContain(chordKey(gid, suffix));
      const entry = [
        1,
        fx.input.task_id as string,
        fx.input.state as string,
        fx.input.result ?? null,
      ];
      expect(strings).toContain(pyJsonDumps(entry, { dialect: dialect(fx) }));
      return;
    }
    expect(set?.[1]).toBe(taskMetaKey(fx.input.task_id as string));
    const sentText = set?.[2] as string;
    const sent = pyJsonLoads(sentText) as Dict;
    const meta = buildResultMeta(metaInput(fx, sent));
    expect(pyJsonDumps(meta, { dialect: dialect(fx) })).toBe(sentText);
    const parsed = parseResultMeta(sent);
    expect(parsed.status).toBe(fx.input.state);
    if (fx.input.state === 'FAILURE')
      expect(parsed.error?.excType).toBe(meta.result && (meta.result as Dict).exc_type);
  });
});

describe('rpc-result fixtures', () => {
  it.each(rpc.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const e = fx.expected;
    const sent = pyJsonLoads(fromB64(e.body_b64 as string).toString('utf8')) as Dict;
    const body = buildRpcResultBody({
      ...metaInput(fx, sent),
      request: { children: [] },
      traceback: null,
      extended: false,
    });
    const text = pyJsonDumps(body, { dialect: dialect(fx) });
    expect(toB64(Buffer.from(text))).toBe(e.body_b64);
    const msg = {
      body: new Uint8Array(Buffer.from(text)),
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: {},
      properties: {
        correlation_id: fx.input.correlation_id as string,
        delivery_mode: 1,
        priority: 0,
      },
    };
    expect(Object.keys(msg.properties)).toEqual(e.properties_order);
    const redis = e.redis as Dict;
    expect(
      encodeRedisEnvelope(
        msg,
        { exchange: '', routing_key: fx.input.reply_to as string },
        redis.delivery_tag as string,
        {
          jsonDialect: dialect(fx),
        },
      ),
    ).toBe(redis.envelope);
  });
});

describe('exception fixtures', () => {
  it.each(excs.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    if (isPyDict(fx.input.exception)) {
      const x = fx.input.exception;
      const prepared = prepareException({
        excType: x.exc_type as string,
        excModule: x.exc_module as string,
        args: x.args as PyValue[],
      });
      expect(Object.keys(prepared)).toEqual(['exc_type', 'exc_message', 'exc_module']);
      expect(prepared).toEqual(fx.expected.prepared);
    } else {
      const r = exceptionFromDict(fx.input.document);
      expect(r.excType).toBe(fx.expected.type);
      expect(r.args).toEqual(fx.expected.args);
      if ((fx.expected.module as string).startsWith('celery.')) {
        // Python falls back to a synthesized class; we only know the stored module (or none).
        expect(r.excModule === null || r.excModule.startsWith('no.')).toBe(true);
      } else {
        expect(r.resolvedModule).toBe(fx.expected.module);
      }
    }
  });
});
