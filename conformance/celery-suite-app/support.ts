import { Redis } from 'ioredis';
import {
  chain,
  createApp,
  Group,
  Chord,
  Chain,
  PythonError,
  s,
  si,
  signature,
  Signature,
  type CeleryApp,
  type PyValue,
  type TaskContext,
  type TaskOptions,
  defineTask,
} from 'celery-wire';
import { pyAdd } from '../app/pyops';

/** Helpers of the TypeScript port of `t/integration/tasks.py` (`index.ts`). */

export const P = 't.integration.tasks.';
export type Kw = Record<string, PyValue>;

let redis: Redis | undefined;
/** `get_redis_connection()`: REDIS_HOST / REDIS_PORT, db 0, as the suite's tests read it. */
export function conn(): Redis {
  redis ??= new Redis({
    host: process.env.REDIS_HOST ?? 'localhost',
    port: Number(process.env.REDIS_PORT ?? 6379),
    maxRetriesPerRequest: 3,
  });
  return redis;
}

let app: CeleryApp | undefined;
/** The app tasks publish through (`self.app`): the worker's broker and backend URLs. */
export function client(): CeleryApp {
  app ??= createApp({ resultExtended: true });
  return app;
}

export function expected(...args: PyValue[]): PythonError {
  return new PythonError('ExpectedException', pyStr(args[0] ?? null), {
    excModule: 't.integration.tasks',
    args,
  });
}

export function pyStr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function task(name: string, handler: (...a: never[]) => unknown, o: TaskOptions = {}) {
  return defineTask(P + name, handler, o);
}

export function bound(
  name: string,
  params: string[],
  handler: (ctx: TaskContext, ...a: never[]) => unknown,
  o: TaskOptions = {},
) {
  return defineTask(P + name, handler, { ...o, params, bind: true });
}

export const add = (x: PyValue, y: PyValue, z: PyValue = null): PyValue =>
  z !== null && z !== 0 && z !== false ? pyAdd(pyAdd(x, y), z) : pyAdd(x, y);

export const isList = (v: PyValue): v is PyValue[] => Array.isArray(v);

export function addSig(...args: PyValue[]): Signature {
  return s(P + 'add', args);
}

/** What redis-py sends for a value: bytes as they are, numbers as `str()`, text as UTF-8. */
function redisArg(v: PyValue): string | Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return pyStr(v);
}

export async function redisEcho(message: PyValue, key: PyValue = 'redis-echo'): Promise<null> {
  await conn().rpush(redisArg(key), redisArg(message));
  return null;
}

export async function redisCount(key: PyValue = 'redis-count'): Promise<null> {
  await conn().incr(redisArg(key));
  return null;
}

/** `fn(*args, link_msg=None)`: positional args then the kwargs object (no declared params). */
export function splitVar(all: PyValue[]): { args: PyValue[]; kw: Kw } {
  const kw = (all.at(-1) ?? {}) as Kw;
  return { args: all.slice(0, -1), kw };
}

export const attempts = { retry: 0 };

export function replaceWithChainBase(raiseError: boolean) {
  return (ctx: TaskContext, ...all: PyValue[]) => {
    const { args, kw } = splitVar(all);
    const c = chain(s(P + 'identity', args), raiseError ? s(P + 'raise_error') : s(P + 'identity'));
    let link = s(P + 'redis_echo');
    const msg = kw.link_msg;
    if (msg !== undefined && msg !== null) {
      link = si(P + 'redis_echo', [msg]);
    }
    if (raiseError) c.linkError(link);
    else c.link(link);
    return ctx.replace(c);
  };
}

export async function secondOrder(ctx: TaskContext, state: PyValue, me: 'A' | 'B'): Promise<null> {
  if (state !== true) {
    await conn().rpush('redis-echo', `In ${me}`);
    const next =
      me === 'A'
        ? chain(
            s(P + 'second_order_replace2'),
            si(P + 'second_order_replace1', [], { state: true }),
          )
        : chain(
            s(P + 'redis_echo', ['In/Out C']),
            si(P + 'second_order_replace2', [], { state: true }),
          );
    return ctx.replace(next);
  }
  await conn().rpush('redis-echo', `Out ${me}`);
  return null;
}

/** `Signature.from_dict` + the recursive type check of `rebuild_signature`. */
export function rebuild(d: PyValue): null {
  const check = (sig: unknown): void => {
    if (!(sig instanceof Signature)) {
      throw new PythonError('TypeError', `${pyStr(sig as PyValue)} is not a signature object`);
    }
    if (sig instanceof Chain || sig instanceof Group) sig.tasks.forEach(check);
    if (sig instanceof Chord) {
      sig.headerTasks.forEach(check);
      check(sig.body);
    }
  };
  check(signature(d));
  return null;
}

/** A task returning a signature: Python's json encodes the `Signature` dict. */
export function nested(make: () => Signature): () => PyValue {
  return () => make().toDict();
}

/** `ClassBasedAutoRetryTask`: `autoretry_for=(ValueError,)`, `max_retries=1`, `retry_backoff`. */
export async function autoRetry(ctx: TaskContext): Promise<PyValue> {
  if (ctx.retries) return ctx.retries;
  const exc = new PythonError('ValueError', '', { args: [] });
  // `get_exponential_backoff_interval(1, retries, 600, full_jitter=True)`: randrange(2**r + 1).
  const countdown = Math.floor(Math.random() * (2 ** ctx.retries + 1));
  return ctx.retry({ exc, countdown, maxRetries: 1 });
}
