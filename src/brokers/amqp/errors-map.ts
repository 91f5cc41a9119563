import { BrokerConnectionError, BrokerError, isCeleryError } from '../../errors/errors';
import { ChannelError } from './errors';

/**
 * Wrap anything amqplib throws into our typed tree, keeping the AMQP reply code: 320
 * CONNECTION_FORCED and 5xx are connection errors (kombu `ConnectionError`, recoverable by
 * reconnecting); 404/405/406/403 close only the channel (kombu `ChannelError`).
 */
export function toBrokerError(e: unknown, what: string): BrokerError {
  if (isCeleryError(e) && e instanceof BrokerError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const replyCode = typeof code === 'number' ? code : undefined;
  const msg = e instanceof Error ? e.message : String(e);
  const opts = { cause: e, ...(replyCode === undefined ? {} : { replyCode }) };
  if (replyCode === 406) {
    // e.g. "PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'q' …"
    return new ChannelError(
      `${what}: declaration conflicts with the existing entity: ${msg}`,
      opts,
    );
  }
  if (replyCode === undefined || replyCode >= 500 || replyCode === 320) {
    return new BrokerConnectionError(`${what}: ${msg}`, opts);
  }
  return new ChannelError(`${what}: ${msg}`, opts);
}
