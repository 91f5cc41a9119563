import { PythonError, type RetryOptions } from '../exceptions';
import type { TaskCall } from '../executor';
import { packError, unpackError } from './error-transfer';
import type { FromThread } from './messages';
import type { ThreadSlot } from './thread-slot';
import { pack, unpack } from './transfer';
import { Signature } from '../../canvas/signature';

let nextToken = 0;

/**
 * A `ctx.retry` / `ctx.updateState` / `ctx.replace` / `ctx.addToChord` call from a thread, run on the main thread with the
 * request's real context (which owns the broker and the backend). An error the call raises (the
 * `Retry` semi-predicate, `Reject`, `MaxRetriesExceededError` or the retried `exc`) is kept here
 * under a token and handed to the thread as a stand-in: when the task lets it propagate, the
 * tracer receives the very object the in-process path would have.
 */
export function handleCall(
  call: TaskCall,
  tokens: Map<number, unknown>,
  slot: ThreadSlot,
  m: Extract<FromThread, { t: 'call' }>,
): void {
  const ctx = call.context();
  let p: Promise<unknown>;
  if (m.op === 'retry') {
    const o = m.opts;
    const opts: RetryOptions = {
      ...(o.countdown === undefined ? {} : { countdown: o.countdown }),
      ...(o.eta === undefined ? {} : { eta: o.eta }),
      ...(o.exc === undefined ? {} : { exc: unpackError(o.exc, () => undefined) }),
      ...(o.maxRetries === undefined ? {} : { maxRetries: o.maxRetries }),
      ...(o.args === undefined ? {} : { args: unpack(o.args) as never }),
      ...(o.kwargs === undefined ? {} : { kwargs: unpack(o.kwargs) as never }),
    };
    p = ctx.retry(opts);
  } else if (m.op === 'updateState') {
    p = ctx.updateState(m.state, unpack(m.meta));
  } else if (m.op === 'replace') {
    p = ctx.replace(Signature.fromDict(unpack(m.sig)));
  } else {
    p = ctx.addToChord(Signature.fromDict(unpack(m.sig)), { lazy: m.lazy ?? false });
  }
  p.then(
    (v: unknown) => {
      slot.send({
        t: 'reply',
        call: m.call,
        ...(typeof v === 'string' ? { value: pack(v) } : {}),
      });
    },
    (e: unknown) => {
      const token = ++nextToken;
      tokens.set(token, e);
      const base = packError(e instanceof Error ? e : new PythonError('Exception', String(e)));
      slot.send({ t: 'reply', call: m.call, error: { ...base, token } });
    },
  );
}
