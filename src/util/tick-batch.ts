/**
 * Collects the calls made in one turn of the event loop (up to the next microtask checkpoint)
 * and hands them to `run` together, so that N publishes issued back to back cost one pipeline
 * and one socket write instead of N. A call awaited before the next one is made forms a batch of
 * one: nothing waits for a timer, so a lone call is as fast as without batching.
 *
 * Every caller of a batch gets the batch's outcome: `run` either sends all of it or fails.
 */
export class TickBatch<T> {
  private items: T[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly run: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.items.length === 0) {
        // A promise job, not `queueMicrotask`: fake timers (jest, sinon) replace the latter, and
        // a batch must flush the same way under them (celery-wire/testing drives fake clocks).
        void Promise.resolve().then(() => {
          this.flush();
        });
      }
      this.items.push(item);
      this.waiters.push({ resolve, reject });
    });
  }

  private flush(): void {
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    // `run` called in a `then`, so a synchronous throw rejects the batch like a failed send.
    Promise.resolve(items)
      .then((xs) => this.run(xs))
      .then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (e: unknown) => {
          for (const w of waiters) w.reject(e);
        },
      );
  }
}
