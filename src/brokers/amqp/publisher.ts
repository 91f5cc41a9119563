import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import {
  BrokerConnectionError,
  BrokerError,
  MessageReturnedError,
  isCeleryError,
} from '../../errors/errors';
import type { PublishItem } from '../broker';
import { ChannelError } from './errors';
import { toBrokerError } from './errors-map';
import { toPublishOptions } from './properties';

/**
 * Celery's `task_publish_retry_policy` default (`celery/app/defaults.py`): 3 retries; the
 * interval is short because the connection's own recovery does the waiting.
 */
const PUBLISH_RETRIES = 3;

/**
 * The publish side: one confirm channel, reopened whenever it closes — a 404 (unknown exchange)
 * or 406 closes only that channel and fails only that publish; later publishes get a new one.
 * A batch whose channel or connection went away before every confirm arrived is re-sent
 * (only the unconfirmed messages), at most {@link PUBLISH_RETRIES} times, once the connection is
 * back (kombu `Producer.publish(retry=True)` → `connection.ensure`). `mandatory` items the broker
 * returned as unroutable fail the batch with {@link MessageReturnedError} once it is confirmed.
 */
export class Publisher {
  private channel: Promise<ConfirmChannel> | undefined;

  constructor(
    private readonly model: () => Promise<ChannelModel>,
    /** Told of each re-send of messages whose confirm was lost (they may arrive twice). */
    private readonly onResend?: (items: readonly PublishItem[]) => void,
  ) {}

  reset(): void {
    this.channel = undefined;
  }

  private open(): Promise<ConfirmChannel> {
    if (!this.channel) {
      const p = this.model().then(async (m) => {
        const ch = await m.createConfirmChannel();
        ch.setMaxListeners(0);
        ch.on('error', () => undefined);
        ch.on('close', () => {
          if (this.channel === p) this.channel = undefined;
        });
        return ch;
      });
      p.catch(() => {
        if (this.channel === p) this.channel = undefined;
      });
      this.channel = p;
    }
    return this.channel;
  }

  async publishMany(items: readonly PublishItem[]): Promise<void> {
    let pending: readonly PublishItem[] = items;
    const returned: PublishItem[] = [];
    for (let attempt = 0; ; attempt++) {
      const failed = await this.sendOnce(pending);
      returned.push(...failed.returned);
      if (failed.unconfirmed.length === 0 && !failed.error) {
        if (returned.length === 0) return;
        const rk = returned.map((r) => r.target.routingKey).join(', ');
        throw new MessageReturnedError(`unroutable, returned by the broker: ${rk}`, returned, {
          replyCode: 312,
        });
      }
      const err = failed.error ?? new BrokerConnectionError('publish: unconfirmed');
      const retryable = err instanceof BrokerConnectionError && !(err instanceof ChannelError);
      if (!retryable || attempt >= PUBLISH_RETRIES) throw err;
      pending = failed.unconfirmed;
      this.onResend?.(pending);
    }
  }

  /**
   * Publishes the batch in a tight loop and waits for the broker's confirms once: confirms arrive
   * asynchronously (often `multiple=true`), so awaiting each in turn would cost a round trip per
   * message. 'drain' pauses the loop, since amqplib buffers without bound otherwise.
   */
  private async sendOnce(
    items: readonly PublishItem[],
  ): Promise<{ unconfirmed: PublishItem[]; returned: PublishItem[]; error?: BrokerError }> {
    let ch: ConfirmChannel;
    try {
      ch = await this.open();
    } catch (e) {
      return {
        unconfirmed: [...items],
        returned: [],
        error: toBrokerError(e, 'publish: opening channel'),
      };
    }
    let channelError: BrokerError | undefined;
    const onError = (e: Error): void => {
      channelError ??= toBrokerError(e, 'publish');
    };
    ch.on('error', onError);
    // RabbitMQ sends `basic.return` before the `basic.ack` of the same message, so a return is
    // seen while this batch still waits for its confirms. The channel is shared by concurrent
    // batches: a return is ours when it is the same bytes to the same place as a mandatory item.
    const returned = new Set<number>();
    const onReturn = (m: Message): void => {
      // One return marks one item: the first identical mandatory one not yet marked.
      const k = items.findIndex((it, j) => {
        if (returned.has(j) || it.opts?.mandatory !== true) return false;
        if (it.target.exchange !== m.fields.exchange) return false;
        if (it.target.routingKey !== m.fields.routingKey) return false;
        const b = it.message.body;
        return Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(m.content);
      });
      if (k >= 0) returned.add(k);
    };
    const mandatory = items.some((it) => it.opts?.mandatory === true);
    if (mandatory) ch.on('return', onReturn);
    const unconfirmed = new Set<number>();
    let nacked: BrokerError | undefined;
    let failure: BrokerError | undefined;
    let fatal: Error | undefined;
    let pending = 0;
    let settle: (() => void) | undefined;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const confirmed = (i: number) => (err: unknown) => {
      if (err) {
        const msg = err instanceof Error ? err.message : typeof err === 'string' ? err : 'nack';
        if (msg === 'channel closed') unconfirmed.add(i);
        else nacked ??= new BrokerError('message was nacked by the broker', { cause: err });
      }
      if (--pending === 0) settle?.();
    };
    let i = 0;
    for (const { message, target, opts } of items) {
      let ok: boolean;
      try {
        const options = toPublishOptions(message);
        if (opts?.mandatory) options.mandatory = true;
        const body = message.body;
        const content = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
        pending++;
        ok = ch.publish(target.exchange, target.routingKey, content, options, confirmed(i));
      } catch (e) {
        pending--;
        // An unencodable message (EncodeError) or an oversized header table (RangeError) fails
        // the batch after what was sent is confirmed; amqplib throwing on a channel that closed
        // under us leaves the rest to be retried.
        if (isCeleryError(e)) fatal = e;
        else if (e instanceof RangeError) fatal = new BrokerError(e.message, { cause: e });
        else failure = toBrokerError(e, 'publish');
        break;
      }
      i++;
      if (!ok) await waitDrain(ch);
    }
    if (pending > 0) await done;
    ch.off('error', onError);
    if (mandatory) ch.off('return', onReturn);
    if (fatal) throw fatal;
    const rest = items.filter((_, k) => unconfirmed.has(k) || k >= i);
    const back = items.filter((_, k) => returned.has(k) && !unconfirmed.has(k));
    const error = nacked ?? channelError ?? failure;
    if (rest.length > 0 || error) {
      return {
        unconfirmed: rest,
        returned: back,
        error:
          error ?? new BrokerConnectionError('publish: channel closed before the broker confirmed'),
      };
    }
    return { unconfirmed: [], returned: back };
  }
}

function waitDrain(ch: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      ch.off('drain', done);
      ch.off('close', done);
      resolve();
    };
    ch.on('drain', done);
    ch.on('close', done);
  });
}
