import { defaultBackoff, type Broker } from '../brokers/broker';
import { sanitizeBrokerUrl } from '../brokers/url';
import { connectionErrorLine } from './broker-status-log';
import type { LogLevel } from './worker-env';

/** Options of {@link connectWithRetry}. */
export interface StartupRetry {
  /** `broker_connection_retry_on_startup`. */
  retry: boolean;
  /** `broker_connection_max_retries`; `null` = forever. */
  maxRetries: number | null;
  /**
   * The broker URL: logged (password masked) until the broker reports its own target, which is
   * what Celery prints (`conn.as_uri()`: no query string, the current node of a failover list).
   */
  target: string;
  log: (level: LogLevel, msg: string) => void;
  /** A shutdown was requested while waiting: stop retrying. */
  isStopping: () => boolean;
  /** Delay per attempt; kombu's 2 s, +2 s, ≤ 30 s by default. */
  backoff?: (attempt: number) => number | undefined;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** `conn.as_uri()` of a URL: the password masked, no query string, the first node of a list. */
export function asUri(url: string): string {
  const first = url.split(';')[0] ?? url;
  return sanitizeBrokerUrl(first.trim()).replace(/\?.*$/, '');
}

/**
 * The first broker connection, as `Consumer.ensure_connected` with
 * `broker_connection_retry_on_startup` (`celery/worker/consumer/consumer.py`): a refused
 * connection, a wrong password or a failed TLS check is logged with its reason in Celery's
 * words (`consumer: Cannot connect to …: <reason>.\nTrying again in 2.00 seconds... (1/100)`)
 * and retried; after `max_retries` the last error is thrown.
 */
export async function connectWithRetry(broker: Broker, o: StartupRetry): Promise<void> {
  const backoff = o.backoff ?? defaultBackoff;
  let target = asUri(o.target);
  const unsubscribe = broker.onStatus((s) => {
    target = s.target;
  });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await broker.connect();
        return;
      } catch (e) {
        const err = asError(e);
        const delay = backoff(attempt);
        if (!o.retry || o.isStopping() || delay === undefined) throw err;
        if (o.maxRetries !== null && attempt > o.maxRetries) throw err;
        o.log('error', connectionErrorLine(target, err, delay, attempt, o.maxRetries));
        await new Promise((r) => setTimeout(r, delay));
        if (o.isStopping()) throw err;
      }
    }
  } finally {
    unsubscribe();
  }
}
