import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageSystemAttributeName,
} from '@aws-sdk/client-sqs';
import { ProtocolError } from '../../errors/errors';
import type { DeliveryInfo } from '../../protocol/raw-message';
import { decodeSqsBody } from '../../protocol/sqs-envelope';
import type { ConsumeOptions, Consumer, Delivery, DeliveryHandler } from '../broker';
import { SqsDelivery, type SqsSettler } from './sqs-delivery';
import type { SqsQueues } from './sqs-queues';
import { toSqsError } from './sqs-queues';

/** SQS returns at most 10 messages per ReceiveMessage (`SQS_MAX_MESSAGES`). */
const SQS_MAX_MESSAGES = 10;

/** Status callbacks of the broker (one stream per broker). */
export interface PollStatus {
  /** A receive failed; returns the delay before the next attempt. */
  failed(err: Error): number;
  /** A receive succeeded (clears a lost state). */
  ok(): void;
}

interface Loop {
  readonly abort: AbortController;
  done: Promise<void>;
}

/**
 * One consumer over several queues: a long-polling loop per queue, as kombu's async SQS channel
 * schedules one `_get_bulk_async` per queue (`Channel._schedule_queue` / `_loop1`), asking for
 * `min(10, free prefetch slots)` messages (`_get_message_estimate`) with `WaitTimeSeconds =
 * wait_time_seconds`, and pausing `polling_interval` after an empty answer (kombu 5.7 `_loop1`).
 * Deliveries stay valid for the life of their receipt handle: SQS has no connection to lose, so
 * `onReset` is never called and `session` is always 0.
 */
export class SqsConsumer implements Consumer {
  private readonly loops = new Map<string, Loop>();
  private prefetch: number;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private cancelled = false;

  constructor(
    private readonly sqs: SqsQueues,
    private readonly handler: DeliveryHandler,
    private readonly opts: ConsumeOptions,
    private readonly settler: SqsSettler,
    private readonly status: PollStatus,
    queues: readonly string[],
  ) {
    this.prefetch = opts.prefetch ?? 0;
    for (const q of queues) this.startLoop(q);
  }

  get queues(): readonly string[] {
    return [...this.loops.keys()];
  }

  addQueue(queue: string): Promise<void> {
    if (!this.cancelled) this.startLoop(queue);
    return Promise.resolve();
  }

  async cancelQueue(queue: string): Promise<void> {
    const l = this.loops.get(queue);
    if (l === undefined) return;
    this.loops.delete(queue);
    l.abort.abort();
    await l.done;
  }

  setPrefetch(prefetch: number): Promise<void> {
    this.prefetch = prefetch;
    this.wake();
    return Promise.resolve();
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    const loops = [...this.loops.values()];
    this.loops.clear();
    for (const l of loops) l.abort.abort();
    this.wake();
    await Promise.all(loops.map((l) => l.done));
  }

  private startLoop(queue: string): void {
    if (this.loops.has(queue)) return;
    const loop: Loop = { abort: new AbortController(), done: Promise.resolve() };
    this.loops.set(queue, loop);
    loop.done = this.run(queue, loop.abort.signal).catch((e: unknown) => {
      this.opts.onError?.(toSqsError(e, `consumer ${queue}`));
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Free prefetch slots (`QoS.can_consume_max_estimate`; unlimited → 10). */
  private free(): number {
    if (this.prefetch <= 0) return SQS_MAX_MESSAGES;
    return Math.min(SQS_MAX_MESSAGES, this.prefetch - this.inFlight);
  }

  private async waitForSlot(signal: AbortSignal): Promise<void> {
    while (this.free() <= 0 && !signal.aborted) {
      await new Promise<void>((res) => {
        this.waiters.push(res);
        signal.addEventListener(
          'abort',
          () => {
            res();
          },
          { once: true },
        );
      });
    }
  }

  private async run(queue: string, signal: AbortSignal): Promise<void> {
    const o = this.sqs.opts;
    while (!aborted(signal)) {
      await this.waitForSlot(signal);
      if (aborted(signal)) return;
      const n = this.free();
      this.inFlight += n; // reserved while the receive is in flight
      let messages: Message[] = [];
      let queueUrl = '';
      try {
        queueUrl = await this.sqs.urlFor(queue);
        const resp = await this.sqs.client(this.sqs.sqsName(queue)).send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: n,
            WaitTimeSeconds: o.waitTimeSeconds,
            MessageSystemAttributeNames: [
              ...o.systemAttributeNames,
            ] as MessageSystemAttributeName[],
            ...(o.messageAttributeNames.length > 0
              ? { MessageAttributeNames: [...o.messageAttributeNames] }
              : {}),
          }),
          // Not cancelled with the consumer: a long poll abandoned on our side could still hand
          // a message to the dead request, invisible until its visibility timeout. It finishes
          // (≤ wait_time_seconds) and what it returns is released, as kombu 5.7 does.
          { abortSignal: AbortSignal.timeout((o.waitTimeSeconds + 20) * 1000) },
        );
        messages = resp.Messages ?? [];
        this.status.ok();
      } catch (e) {
        this.inFlight -= n;
        this.wake();
        if (aborted(signal)) return;
        const err = toSqsError(e, `ReceiveMessage ${queue}`);
        this.opts.onError?.(err);
        await sleep(this.status.failed(err), signal);
        continue;
      }
      this.inFlight -= n - messages.length;
      this.wake();
      if (aborted(signal) && messages.length > 0) {
        // kombu 5.7 `_release_messages`: received after the consumer went away → visible again.
        await this.release(queue, queueUrl, messages);
        return;
      }
      for (const m of messages) this.deliver(queue, queueUrl, m);
      if (messages.length === 0 && o.pollingInterval > 0) {
        await sleep(o.pollingInterval * 1000, signal);
      }
    }
  }

  private async release(queue: string, queueUrl: string, messages: Message[]): Promise<void> {
    this.inFlight -= messages.length;
    const client = this.sqs.client(this.sqs.sqsName(queue));
    for (const m of messages) {
      if (m.ReceiptHandle === undefined) continue;
      await client
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        )
        .catch(() => undefined); // left invisible: back after the visibility timeout, not lost
    }
  }

  private deliver(queue: string, queueUrl: string, m: Message): void {
    const receipt = m.ReceiptHandle ?? '';
    let delivery: Delivery;
    const count = Number(m.Attributes?.ApproximateReceiveCount ?? '1');
    const redelivered = count > 1;
    try {
      const body = decodeSqsBody(m.Body ?? '');
      const di: DeliveryInfo =
        body.kind === 'envelope'
          ? { ...body.deliveryInfo, redelivered }
          : { exchange: '', routing_key: queue, redelivered };
      delivery = new SqsDelivery({
        message: body.message,
        deliveryInfo: di,
        receiptHandle: receipt,
        redelivered,
        queue,
        queueUrl,
        receiveCount: count,
        settler: this.settler,
        onSettled: () => {
          this.inFlight--;
          this.wake();
        },
      });
    } catch (e) {
      // A kombu envelope with wrong field types: reported with its id, and left in the queue
      // (it comes back after the visibility timeout, or goes to the dead-letter queue).
      this.inFlight--;
      this.wake();
      this.opts.onError?.(
        new ProtocolError(
          `SQS message ${m.MessageId ?? '?'} on queue ${queue} cannot be read: ${
            e instanceof Error ? e.message : String(e)
          }`,
          { cause: e },
        ),
      );
      return;
    }
    void (async () => {
      try {
        await this.handler(delivery);
      } catch (e) {
        this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    })();
  }
}

/** Read through a call: TypeScript narrows `signal.aborted` across awaits otherwise. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal.aborted) {
      res();
      return;
    }
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
