import { SerializerNotInstalledError } from '../errors/errors';
import { decompress } from '../serialization/compression';
import { loads } from '../serialization/registry';
import { PyDateTime, PyFloat, isPyDict, type PyValue } from '../serialization/py-values';
import {
  fromB64,
  listFixtures,
  loadFixture,
  toB64,
  fixtureDialect,
  type FixtureCase,
} from '../../test/support/fixtures';
import type { CeleryProfileName } from './profiles';
import { encodeRedisEnvelope, decodeRedisEnvelope } from './redis-envelope';
import { priorityQueueKey } from './redis-keys';
import { DEFAULT_CONFIG } from '../config/config';
import { routeTask } from './route';
import type { SignatureDict } from './signature';
import { decodeTaskMessage, encodeTaskMessage } from './task-message';
import type { EncodeEnv, TaskInput } from './task-input';

type Opts = Record<string, PyValue>;
const str = (v: PyValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: PyValue | undefined): number | PyFloat | undefined =>
  typeof v === 'number' || v instanceof PyFloat ? v : undefined;

const ACCEPT = ['json', 'yaml', 'msgpack'];

function plainBody(fx: FixtureCase): Uint8Array {
  const e = fx.expected;
  return fromB64((e.body_plain_b64 ?? e.body_b64) as string);
}

/** args/kwargs/callbacks/errbacks as Python serialized them (dict order intact). */
function sentBody(fx: FixtureCase): {
  args: PyValue[];
  kwargs: Record<string, PyValue>;
  callbacks: SignatureDict[] | null;
  errbacks: SignatureDict[] | null;
} {
  const e = fx.expected;
  const v = loads(plainBody(fx), e.content_type as string, e.content_encoding as string, {
    accept: ACCEPT,
  });
  let args: PyValue | undefined;
  let kwargs: PyValue | undefined;
  let embed: PyValue | undefined;
  if (Array.isArray(v)) [args, kwargs, embed] = v as PyValue[];
  else if (isPyDict(v)) [args, kwargs, embed] = [v.args, v.kwargs, v];
  else throw new Error(`${fx.file}: unexpected body`);
  const d = isPyDict(embed) ? embed : {};
  return {
    args: args as PyValue[],
    kwargs: kwargs as Record<string, PyValue>,
    callbacks: (d.callbacks ?? null) as SignatureDict[] | null,
    errbacks: (d.errbacks ?? null) as SignatureDict[] | null,
  };
}

/** `value` with every dict's keys in the order `like` (the same data as sent) has them. */
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

/** Map a fixture's Python `apply_async`/`send_task` call onto our TaskInput. */
function toTaskInput(fx: FixtureCase): { input: TaskInput; env: EncodeEnv; opts: Opts } {
  const i = fx.input;
  const o = isPyDict(i.options) ? i.options : {};
  const argsrepr = isPyDict(fx.expected.headers) ? str(fx.expected.headers.argsrepr) : undefined;
  // The fixture files are written with sorted keys, which loses Python's dict order inside
  // `input`; the order-carrying copies are the expected body and `headers_order`.
  const sent = sentBody(fx);
  const input: TaskInput = {
    task: i.task as string,
    id: i.task_id as string,
    args: reorderLike(i.args, sent.args) as PyValue[],
    kwargs: reorderLike(i.kwargs, sent.kwargs) as Record<string, PyValue>,
    // The generator passes some args as a list: argsrepr shows which.
    argsAreList: argsrepr?.startsWith('[') === true,
    serializer: i.serializer as string,
    protocol: i.protocol === 1 ? 1 : 2,
    profile: `celery-${fx.line}` as CeleryProfileName,
    jsonDialect: fixtureDialect(fx),
  };
  if (typeof i.compression === 'string') input.compression = i.compression;
  if (typeof o.countdown === 'number') input.countdown = o.countdown;
  if (o.eta instanceof PyDateTime || typeof o.eta === 'string') input.eta = o.eta;
  const ex = o.expires;
  if (
    ex instanceof PyDateTime ||
    typeof ex === 'string' ||
    typeof ex === 'number' ||
    ex instanceof PyFloat
  )
    input.expires = ex;
  if (typeof o.priority === 'number') input.priority = o.priority;
  if (isPyDict(o.headers)) {
    const h = o.headers;
    const order = (fx.expected.headers_order as string[]).filter((k) => k in h);
    input.headers = Object.fromEntries(order.map((k) => [k, h[k] as PyValue]));
  }
  const tl = num(o.time_limit);
  if (tl !== undefined) input.timeLimit = tl;
  const stl = num(o.soft_time_limit);
  if (stl !== undefined) input.softTimeLimit = stl;
  if (typeof o.retries === 'number') input.retries = o.retries;
  if (typeof o.shadow === 'string') input.shadow = o.shadow;
  if (isPyDict(o.link)) input.link = sent.callbacks?.[0] ?? o.link;
  if (isPyDict(o.link_error)) input.linkError = sent.errbacks?.[0] ?? o.link_error;
  if (typeof o.group_id === 'string') input.groupId = o.group_id;
  if (typeof o.group_index === 'number') input.groupIndex = o.group_index;
  if (typeof o.root_id === 'string') input.rootId = o.root_id;
  if (typeof o.parent_id === 'string') input.parentId = o.parent_id;
  if (typeof o.ignore_result === 'boolean') input.ignoreResult = o.ignore_result;
  // `Task.apply_async` passes the task's own ignore_result (False); `send_task` its default.
  else if (i.via === 'apply_async') input.ignoreResult = false;
  if (typeof o.reply_to === 'string') input.replyTo = o.reply_to;
  const env: EncodeEnv = {
    now: i.now as PyDateTime,
    origin: i.origin as string,
    replyTo: i.reply_to as string,
  };
  return { input, env, opts: o };
}

const cases = listFixtures('task').map(({ file, line }) => loadFixture(file, line));

describe('task fixtures (real Celery output)', () => {
  it('found task fixtures for every line', () => {
    expect(cases.length).toBeGreaterThan(100);
  });

  describe.each(cases.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const e = fx.expected;
    const { input, env, opts } = toTaskInput(fx);
    // The router the client, canvas and worker publish through, with Celery's default settings.
    const route = routeTask(
      input.task,
      [],
      {},
      {
        queue: str(opts.queue),
        exchange: str(opts.exchange),
        routingKey: str(opts.routing_key),
      },
      DEFAULT_CONFIG,
    );

    it('encodes like Celery', () => {
      if (input.compression === 'bzip2') {
        // celery-wire cannot produce bzip2 (decompression only): it must say so, typed.
        expect(() => encodeTaskMessage(input, env)).toThrow(SerializerNotInstalledError);
        const { compression: _c, ...rest } = input;
        const msg = encodeTaskMessage(rest, env);
        expect(toB64(msg.body)).toBe(toB64(plainBody(fx)));
        return;
      }
      const msg = encodeTaskMessage(input, env);
      expect(Object.keys(msg.headers)).toEqual(e.headers_order);
      expect(msg.headers).toEqual(e.headers);
      expect(Object.keys(msg.properties)).toEqual(e.properties_order);
      expect(msg.properties).toEqual(e.properties);
      expect(msg.contentType).toBe(e.content_type);
      expect(msg.contentEncoding).toBe(e.content_encoding);
      expect(route.exchange).toBe(e.exchange);
      expect(route.routingKey).toBe(e.routing_key);
      const compressed = typeof msg.headers.compression === 'string';
      const plain = compressed ? decompress(msg.body, msg.headers.compression as string) : msg.body;
      const expectedPlain = plainBody(fx);
      if (fx.meta.compare === 'bytes') {
        expect(toB64(msg.body)).toBe(e.body_b64);
      } else if (compressed) {
        expect(toB64(plain)).toBe(toB64(expectedPlain));
      } else {
        expect(loads(plain, msg.contentType, msg.contentEncoding, { accept: ACCEPT })).toEqual(
          loads(expectedPlain, msg.contentType, msg.contentEncoding, { accept: ACCEPT }),
        );
      }
      const redis = e.redis;
      if (isPyDict(redis) && fx.meta.compare === 'bytes') {
        const tag = redis.delivery_tag as string;
        const envText = encodeRedisEnvelope(
          msg,
          { exchange: route.exchange, routing_key: route.routingKey },
          tag,
          { jsonDialect: input.jsonDialect ?? 'kombu-5.3' },
        );
        expect(envText).toBe(redis.envelope);
        // Named exchanges deliver through the binding table, so only anon routes name the list.
        if (route.exchange === '') {
          expect([priorityQueueKey(route.routingKey, msg.properties.priority)]).toEqual(redis.keys);
        }
      }
    });

    it('decodes what Celery sent', () => {
      const redis = e.redis as Record<string, PyValue>;
      const env = decodeRedisEnvelope(redis.envelope as string);
      const d = decodeTaskMessage(env.message, { accept: ACCEPT });
      expect(d.task).toBe(input.task);
      expect(d.id).toBe(input.id);
      expect(d.protocol).toBe(input.protocol);
      // kombu <5.3 JSON has no __type__ tags: a 5.2 peer receives datetimes as plain strings.
      const legacy = input.jsonDialect === 'kombu-legacy' && input.serializer === 'json';
      const sent = sentBody(fx);
      expect(d.args).toEqual(legacy ? sent.args : input.args);
      expect(d.kwargs).toEqual(legacy ? sent.kwargs : input.kwargs);
      expect(d.embed.callbacks).toEqual(input.link ? [input.link] : null);
      expect(d.embed.errbacks).toEqual(input.linkError ? [input.linkError] : null);
      if (input.protocol === 2) expect(d.headers).toEqual(e.headers);
    });
  });
});
