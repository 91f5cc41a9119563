import { ProtocolError } from '../errors/errors';
import { pyJsonDumps, pyJsonLoads } from '../serialization/python-json';
import { isPyDict } from '../serialization/py-values';

/**
 * The `unacked` hash value kombu's Redis transport keeps per delivered message
 * (`kombu/transport/redis.py`, `QoS.append`: `dumps([message._raw, EX, RK])`). The envelope is
 * spliced in as received: kombu re-dumps the dict it just loaded, which gives the same text.
 * Tested byte for byte against `QoS.append` run by the fixture generator (`redis-unacked/*`).
 */
export function unackedValue(envelopeText: string, exchange: string, routingKey: string): string {
  return `[${envelopeText}, ${pyJsonDumps(exchange)}, ${pyJsonDumps(routingKey)}]`;
}

/** Split an `unacked` hash value back into envelope text, exchange and routing key. */
export function parseUnackedValue(text: string): {
  envelope: string;
  exchange: string;
  routingKey: string;
} {
  const v = pyJsonLoads(text);
  if (!Array.isArray(v) || v.length !== 3)
    throw new ProtocolError(`malformed unacked entry: ${text.slice(0, 80)}`);
  const [env, ex, rk] = v as unknown[];
  if (!isPyDict(env) || typeof ex !== 'string' || typeof rk !== 'string') {
    throw new ProtocolError(`malformed unacked entry: ${text.slice(0, 80)}`);
  }
  return { envelope: pyJsonDumps(env), exchange: ex, routingKey: rk };
}
