import type { BackoffPolicy, BrokerStatus, BrokerStatusListener } from '../broker';

export type { BrokerStatus, BrokerStatusListener } from '../broker';

/**
 * The broker status stream for SQS. There is no connection: "connected" means the last request
 * reached SQS, "lost" that one failed with a transport error; polling retries with the backoff
 * policy and reports `reconnecting` with its delay (kombu's `ensure_connection` schedule).
 */
export class SqsStatus {
  private readonly listeners = new Set<BrokerStatusListener>();
  private state: BrokerStatus['state'] | undefined;
  private attempt = 0;

  constructor(
    private readonly target: string,
    private readonly backoff: BackoffPolicy,
  ) {}

  on(listener: BrokerStatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(s: BrokerStatus): void {
    this.state = s.state;
    for (const l of [...this.listeners]) {
      try {
        l(s);
      } catch {
        /* a listener's failure is not the broker's */
      }
    }
  }

  connecting(): void {
    this.emit({ state: 'connecting', target: this.target, attempt: this.attempt + 1 });
  }

  ok(): void {
    if (this.state === 'connected') return;
    this.attempt = 0;
    this.emit({ state: 'connected', target: this.target });
  }

  lost(reason: Error): void {
    this.emit({ state: 'lost', target: this.target, reason });
  }

  /** A request failed; returns the delay (ms) before the next one. */
  failed(reason: Error): number {
    if (this.state === 'connected') this.lost(reason);
    this.attempt++;
    const delayMs = this.backoff(this.attempt) ?? 30_000;
    this.emit({
      state: 'reconnecting',
      target: this.target,
      attempt: this.attempt,
      delayMs,
      reason,
    });
    return delayMs;
  }
}
