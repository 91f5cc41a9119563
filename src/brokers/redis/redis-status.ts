import type { Redis } from 'ioredis';
import { BrokerConnectionError } from '../../errors/errors';
import type { BrokerStatus, BrokerStatusListener } from '../broker';

/**
 * The broker contract's status stream (issue 8) for the Redis transport (`BrokerStatus` of
 * `broker.ts`). Fed by the command connection's ioredis events:
 * `connect()` → `connecting`, `ready` → `connected`, `close` after ready → `lost`,
 * `reconnecting` → `reconnecting` (attempt and delay from the retry strategy), `end` while not
 * closing → `gave-up`.
 */
export type RedisBrokerStatus = BrokerStatus;
export type RedisStatusListener = BrokerStatusListener;

export class RedisStatusStream {
  private readonly listeners = new Set<RedisStatusListener>();
  private lastError: Error | undefined;
  private attempt = 0;
  private up = false;

  constructor(
    readonly target: string,
    private readonly isClosing: () => boolean,
  ) {}

  on(listener: RedisStatusListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(s: RedisBrokerStatus): void {
    for (const l of [...this.listeners]) {
      try {
        l(s);
      } catch {
        // A listener's failure must not break the connection handling.
      }
    }
  }

  /** A `connect()` call (first, or again after a failure at start). */
  connecting(): void {
    this.attempt++;
    this.emit({ state: 'connecting', target: this.target, attempt: this.attempt });
  }

  private reason(): Error {
    return this.lastError ?? new BrokerConnectionError('Connection closed by server.');
  }

  /** Follow one ioredis client's lifecycle. */
  attach(client: Redis): void {
    // A client that never got ready is a failed connect() attempt: the caller reports and
    // retries it (`connectWithRetry`), and the client is dropped; its own scheduled reconnect
    // would be a second, differently numbered line for the same failure.
    let wasReady = false;
    client.on('error', (e: Error) => {
      this.lastError = e;
    });
    client.on('ready', () => {
      wasReady = true;
      this.up = true;
      this.attempt = 0;
      this.lastError = undefined;
      this.emit({ state: 'connected', target: this.target });
    });
    client.on('close', () => {
      if (!this.up || this.isClosing()) return;
      this.up = false;
      this.emit({ state: 'lost', target: this.target, reason: this.reason() });
    });
    client.on('reconnecting', (delayMs: number) => {
      if (this.isClosing() || !wasReady) return;
      this.attempt++;
      this.emit({
        state: 'reconnecting',
        target: this.target,
        attempt: this.attempt,
        delayMs,
        reason: this.reason(),
      });
    });
    client.on('end', () => {
      if (this.isClosing()) return;
      this.emit({ state: 'gave-up', target: this.target, reason: this.reason() });
    });
  }
}
