import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  SendMessageCommand,
  type MessageAttributeValue,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { BrokerConnectionError, BrokerError } from '../../errors/errors';
import { SqsClientError } from '../../errors/sqs';
import type { RawMessage } from '../../protocol/raw-message';
import { encodeSqsBody } from '../../protocol/sqs-envelope';
import type { JsonDialect } from '../../serialization/registry';
import { systemClock, type Clock } from '../../util/clock';
import { uuid4, type UuidFactory } from '../../util/uuid';
import {
  defaultBackoff,
  type BackoffPolicy,
  type Broker,
  type BrokerCapabilities,
  type ConsumeOptions,
  type DeliveryHandler,
  type PublishItem,
  type PublishTarget,
  type QueueSpec,
} from '../broker';
import { parseBrokerUrl, sanitizeBrokerUrl, type SqsBrokerUrl } from '../url';
import { isFifo } from './naming';
import { parseSqsOptions, type SqsLine, type SqsOptions } from './options';
import { delaySeconds, propText } from './publish-options';
import { SqsStatus, type BrokerStatusListener } from './sqs-status';
import { SqsConsumer } from './sqs-consumer';
import type { SqsDelivery, SqsSettler } from './sqs-delivery';
import { SqsQueues, toSqsError } from './sqs-queues';

/** What SQS can do; `fanout`/`remoteControl` tell the worker to skip pidbox, mingle and gossip. */
export interface SqsCapabilities extends BrokerCapabilities {
  /** No fanout exchanges (Celery: `Control.include_if` needs `supports_exchange_type('fanout')`). */
  readonly fanout: false;
  /** No remote control / broadcast; events published to `celeryev` reach no one. */
  readonly remoteControl: false;
}

export interface SqsBrokerOptions {
  url: string | SqsBrokerUrl;
  /** `broker_transport_options` (kombu's snake_case keys). */
  transportOptions?: Readonly<Record<string, unknown>>;
  /** Which kombu line to behave like where 5.2 and 5.7 differ (default 5.7). */
  line?: SqsLine;
  jsonDialect?: JsonDialect;
  /** Environment for the region fallback (`AWS_DEFAULT_REGION`, `AWS_REGION`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Envelope delivery tags and FIFO deduplication ids (kombu: uuid4). */
  uuid?: UuidFactory;
  clock?: Clock;
  backoff?: BackoffPolicy;
}

/** Parallel SendMessage calls per batch (standard queues; FIFO queues go in order). */
const PUBLISH_PARALLEL = 16;

/**
 * kombu's SQS transport (`kombu/transport/SQS`) from Node with `@aws-sdk/client-sqs`: the same
 * queue names, message bodies, FIFO parameters, acks and requeues, so Python Celery and
 * celery-wire share SQS queues. A virtual transport: exchanges/bindings live in this process only
 * (as in kombu, where `BrokerState` is per connection for SQS).
 */
export class SqsBroker implements Broker, SqsSettler {
  readonly capabilities: SqsCapabilities = {
    publisherConfirms: false,
    priorityOrder: 'higher-first',
    messageTtl: false,
    exchangeTypes: ['direct', 'topic'],
    fanout: false,
    remoteControl: false,
  };
  readonly url: SqsBrokerUrl;
  readonly options: SqsOptions;
  private readonly queues: SqsQueues;
  private readonly status: SqsStatus;
  private readonly uuid: UuidFactory;
  private readonly jsonDialect: JsonDialect | undefined;
  /** exchange → (routing key, queue) bindings declared by this process. */
  private readonly bindings = new Map<string, { type: string; rk: string; queue: string }[]>();
  private readonly consumers = new Set<SqsConsumer>();
  private connecting: Promise<void> | undefined;
  private connected = false;
  private closed = false;

  constructor(opts: SqsBrokerOptions) {
    const url = typeof opts.url === 'string' ? parseBrokerUrl(opts.url) : opts.url;
    if (url.transport !== 'sqs') throw new BrokerError(`not an SQS URL: ${url.scheme}`);
    this.url = url;
    this.options = parseSqsOptions(opts.transportOptions ?? {}, opts.line ?? '5.7', opts.env);
    const clock = opts.clock ?? systemClock;
    this.queues = new SqsQueues(url, this.options, () => clock.now());
    this.uuid = opts.uuid ?? uuid4;
    this.jsonDialect = opts.jsonDialect;
    const host = url.hostname === undefined ? '' : `${url.hostname}:${String(url.port ?? '')}`;
    const user = url.username === undefined ? '' : `${url.username}:**@`;
    this.status = new SqsStatus(
      sanitizeBrokerUrl(`sqs://${user}${host}`),
      opts.backoff ?? defaultBackoff,
    );
  }

  /** Subscribe to status changes; returns the unsubscribe function. */
  onStatus(listener: BrokerStatusListener): () => void {
    return this.status.on(listener);
  }

  /** `Channel.__init__`: fill the queue cache with one ListQueues (or the predefined URLs). */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerConnectionError('broker is closed'));
    if (this.connected) return Promise.resolve();
    this.connecting ??= (async () => {
      this.status.connecting();
      try {
        await this.queues.refresh();
      } catch (e) {
        const err = toSqsError(e, 'cannot connect to SQS');
        this.status.lost(err);
        throw err;
      }
      this.connected = true;
      this.status.ok();
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.cancel()));
    this.consumers.clear();
    this.queues.close();
  }

  /** `queue_declare` → `_new_queue` (creates the SQS queue); the binding is kept in memory. */
  async declareQueue(spec: QueueSpec): Promise<void> {
    await this.connect();
    await this.queues.urlFor(spec.name);
    const exchange = spec.exchange ?? spec.name;
    if (exchange === '') return;
    const list = this.bindings.get(exchange) ?? [];
    const rk = spec.routingKey ?? spec.name;
    const type = spec.exchangeType ?? 'direct';
    if (!list.some((b) => b.rk === rk && b.queue === spec.name))
      list.push({ type, rk, queue: spec.name });
    this.bindings.set(exchange, list);
  }

  /** `Channel._lookup`: the anonymous exchange routes to the queue named by the routing key. */
  private lookup(exchange: string, routingKey: string): string[] {
    if (exchange === '') return [routingKey];
    const list = this.bindings.get(exchange) ?? [];
    const out: string[] = [];
    for (const b of list) {
      if (b.type === 'fanout') {
        throw new BrokerError(`fanout exchange ${exchange}: SQS has no fanout (docs/sqs.md)`);
      }
      const hit = b.type === 'topic' ? topicMatch(b.rk, routingKey) : b.rk === routingKey;
      if (hit && !out.includes(b.queue)) out.push(b.queue);
    }
    // Nothing bound (e.g. `celeryev` events): kombu drops it (no dead-letter queue is set).
    return out;
  }

  async publish(message: RawMessage, target: PublishTarget): Promise<void> {
    await this.publishMany([{ message, target }]);
  }

  async publishMany(items: readonly PublishItem[]): Promise<void> {
    await this.connect();
    const perQueue = new Map<string, PublishItem[]>();
    for (const item of items) {
      if (item.target.queue) await this.declareQueue(item.target.queue);
      for (const q of this.lookup(item.target.exchange, item.target.routingKey)) {
        const list = perQueue.get(q) ?? [];
        list.push(item);
        perQueue.set(q, list);
      }
    }
    await Promise.all(
      [...perQueue].map(async ([queue, list]) => {
        const step = isFifo(queue) ? 1 : PUBLISH_PARALLEL;
        for (let i = 0; i < list.length; i += step) {
          await Promise.all(list.slice(i, i + step).map((it) => this.put(queue, it)));
        }
      }),
    );
  }

  /** `Channel._put`: SendMessage with kombu's body and FIFO/group/delay/attribute parameters. */
  private async put(queue: string, item: PublishItem): Promise<void> {
    const url = await this.queues.urlFor(queue);
    const kombu = this.options.kombu;
    let message = item.message;
    const props = message.properties;
    const input: SendMessageCommandInput = { QueueUrl: url, MessageBody: '' };
    if (kombu.messageAttributes && props.message_attributes !== undefined) {
      // 5.7 pops them from the body and sends them as SQS message attributes.
      const { message_attributes: attrs, ...rest } = props;
      input.MessageAttributes = attrs as unknown as Record<string, MessageAttributeValue>;
      message = { ...message, properties: rest };
    }
    const group = props.MessageGroupId;
    if (kombu.groupOnStandardQueues && group !== undefined) input.MessageGroupId = propText(group);
    const delay = kombu.delaySeconds ? delaySeconds(props) : undefined;
    if (isFifo(queue)) {
      input.MessageGroupId = group === undefined ? 'default' : propText(group);
      const dedup = props.MessageDeduplicationId;
      input.MessageDeduplicationId = dedup === undefined ? this.uuid() : propText(dedup);
      // SQS rejects DelaySeconds on FIFO queues: kombu 5.7 drops it (with a warning).
    } else if (delay !== undefined) input.DelaySeconds = delay;
    input.MessageBody = encodeSqsBody(
      message,
      { exchange: item.target.exchange, routing_key: item.target.routingKey },
      this.uuid(),
      {
        base64: this.options.base64,
        ...(this.jsonDialect === undefined ? {} : { jsonDialect: this.jsonDialect }),
      },
    );
    try {
      await this.queues.client(this.queues.sqsName(queue)).send(new SendMessageCommand(input));
    } catch (e) {
      throw toSqsError(e, `SendMessage ${queue}`);
    }
  }

  async consume(
    queues: readonly string[],
    handler: DeliveryHandler,
    opts: ConsumeOptions = {},
  ): Promise<SqsConsumer> {
    await this.connect();
    for (const q of queues) await this.queues.urlFor(q);
    const c = new SqsConsumer(this.queues, handler, opts, this, this.status, queues);
    this.consumers.add(c);
    const cancel = c.cancel.bind(c);
    c.cancel = async () => {
      this.consumers.delete(c);
      await cancel();
    };
    return c;
  }

  /** `basic_ack` = DeleteMessage; a stale receipt handle is forgotten (kombu 5.7). */
  async ack(d: SqsDelivery): Promise<void> {
    try {
      await this.queues
        .client(this.queues.sqsName(d.queue))
        .send(new DeleteMessageCommand({ QueueUrl: d.queueUrl, ReceiptHandle: d.deliveryTag }));
    } catch (e) {
      const err = toSqsError(e, `DeleteMessage ${d.queue}`);
      if (err instanceof SqsClientError && isStaleHandle(err.awsCode)) return;
      throw err;
    }
  }

  /**
   * `basic_reject`. requeue: `_restore` → `_put(redelivered)` = ChangeMessageVisibility to 0
   * (kombu 5.2) or to `wait_time_seconds` (kombu 5.7). No requeue: kombu 5.7 deletes the message
   * unless the queue has a redrive policy or a backoff policy retries the task; kombu 5.2 only
   * forgets it, so SQS delivers it again after the visibility timeout. Then the predefined
   * queue's backoff policy, if any (`QoS.apply_backoff_policy`).
   */
  async reject(d: SqsDelivery, requeue: boolean): Promise<void> {
    const client = this.queues.client(this.queues.sqsName(d.queue));
    const backoff = this.backoffFor(d);
    const kombu = this.options.kombu;
    try {
      if (requeue) {
        const vt = kombu.requeueAfterWaitTime ? this.options.waitTimeSeconds : 0;
        await client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: d.queueUrl,
            ReceiptHandle: d.deliveryTag,
            VisibilityTimeout: vt,
          }),
        );
      } else if (kombu.rejectDeletes && !backoff.task) {
        const name = this.queues.sqsName(d.queue);
        if (!(await this.queues.hasRedrivePolicy(name, d.queueUrl))) {
          await client.send(
            new DeleteMessageCommand({ QueueUrl: d.queueUrl, ReceiptHandle: d.deliveryTag }),
          );
        }
      }
      if (backoff.seconds !== undefined) {
        await client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: d.queueUrl,
            ReceiptHandle: d.deliveryTag,
            VisibilityTimeout: backoff.seconds,
          }),
        );
      }
    } catch (e) {
      const err = toSqsError(e, `reject ${d.queue}`);
      if (err instanceof SqsClientError && isStaleHandle(err.awsCode)) return;
      throw err;
    }
  }

  /** `QoS._extract_backoff_policy_configuration_and_message`: keyed by the routing key. */
  private backoffFor(d: SqsDelivery): { task: boolean; seconds: number | undefined } {
    const q = this.options.predefinedQueues.get(d.deliveryInfo.routing_key);
    const task = d.message.headers.task;
    if (q === undefined || q.backoffTasks.length === 0 || q.backoffPolicy.size === 0) {
      return { task: false, seconds: undefined };
    }
    if (typeof task !== 'string' || !q.backoffTasks.includes(task)) {
      return { task: false, seconds: undefined };
    }
    return { task: true, seconds: q.backoffPolicy.get(d.receiveCount) };
  }
}

function isStaleHandle(code: string | undefined): boolean {
  return code === 'ReceiptHandleIsInvalid' || code === 'InvalidParameterValue';
}

/**
 * kombu's `TopicExchange.key_to_pattern`: words joined by `\.`, `*` → `.*?[^\.]`, `#` → `.*?`.
 */
function topicMatch(pattern: string, key: string): boolean {
  const words = pattern.split('.').map((w) => {
    if (w === '*') return '.*?[^\\.]';
    if (w === '#') return '.*?';
    return w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${words.join('\\.')}$`).test(key);
}
