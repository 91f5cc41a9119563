import { reprStr } from '../protocol/repr';
import type { BrokerStatus } from '../brokers/broker';
import type { LogLevel } from './worker-env';

/** Celery's `broker_connection_max_retries` default (`celery/app/defaults.py`). */
export const DEFAULT_MAX_RETRIES = 100;

/** `celery/utils/time.py`, `humanize_seconds(secs, 'in', ' ')`: `in 2.00 seconds`, `now`. */
export function humanizeSeconds(secs: number, prefix = '', sep = ''): string {
  const s = Number(secs.toFixed(2));
  const units: [string, number][] = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ];
  for (const [unit, div] of units) {
    if (s >= div) {
      const w = s / div;
      return `${prefix}${sep}${w.toFixed(2)} ${w === 1 ? unit : `${unit}s`}`;
    }
  }
  return 'now';
}

/** Python `repr(exc)` of an error, e.g. `ConnectionRefusedError('connect ECONNREFUSED …')`. */
export function excRepr(e: Error): string {
  const name = e.name === 'Error' || e.name === '' ? 'Exception' : e.name;
  return `${name}(${reprStr(e.message)})`;
}

/**
 * One broker status in Celery's words (`celery/worker/consumer/consumer.py`: CONNECTION_RETRY,
 * CONNECTION_ERROR + CONNECTION_RETRY_STEP; `consumer/connection.py`: `Connected to %s`;
 * `celery/worker/worker.py`: `Unrecoverable error: %r`). `null`: nothing to log.
 */
export function brokerStatusLine(
  s: BrokerStatus,
  maxRetries: number | null = DEFAULT_MAX_RETRIES,
): { level: LogLevel; msg: string } | null {
  switch (s.state) {
    case 'connecting':
      return null;
    case 'connected':
      return { level: 'info', msg: `Connected to ${s.target}` };
    case 'lost':
      return {
        level: 'warn',
        msg: `consumer: Connection to broker lost. Trying to re-establish the connection... (${excRepr(s.reason)})`,
      };
    case 'reconnecting':
      return {
        level: 'error',
        msg:
          s.failover === true
            ? failoverLine(s.target, s.reason)
            : connectionErrorLine(s.target, s.reason, s.delayMs, s.attempt, maxRetries),
      };
    case 'gave-up':
      return { level: 'error', msg: `Unrecoverable error: ${excRepr(s.reason)}` };
  }
}

/**
 * The reason as Celery prints it (`str(exc)` of the transport's error): our typed errors wrap
 * the driver's with context (`cannot connect to <url>: …`) that the log line already says, so a
 * wrapper whose message only adds a prefix to its cause's gives way to the cause.
 */
export function printedReason(e: Error): Error {
  let cur = e;
  for (let depth = 0; depth < 8; depth++) {
    const cause: unknown = cur.cause;
    if (!(cause instanceof Error) || cause.message === '') break;
    if (!cur.message.endsWith(`: ${cause.message}`)) break;
    cur = cause;
  }
  return cur;
}

/** `consumer: Cannot connect to %s: %s.\nTrying again in %s... (%s/%s)`. */
export function connectionErrorLine(
  target: string,
  reason: Error,
  delayMs: number,
  attempt: number,
  maxRetries: number | null,
): string {
  const when = humanizeSeconds(delayMs / 1000, 'in', ' ');
  return `consumer: Cannot connect to ${target}: ${printedReason(reason).message}.\nTrying again ${when}... (${String(attempt)}/${maxRetries === null ? 'None' : String(maxRetries)})\n`;
}

/**
 * `consumer: Cannot connect to %s: %s.\nWill retry using next failover.\n`: a node of a failover
 * list failed and the next one is tried at once (`consumer.py`, `ensure_connected._error_handler`
 * with `conn.alt` and `interval == 0`).
 */
export function failoverLine(target: string, reason: Error): string {
  return `consumer: Cannot connect to ${target}: ${printedReason(reason).message}.\nWill retry using next failover.\n`;
}
