import type { Channel, ChannelModel } from 'amqplib';
import type { ExchangeType, QueueSpec } from '../broker';
import type { ExchangeOptions } from '../fanout';
import {
  InequivalentExchangeError,
  InequivalentQueueArgumentsError,
} from '../../errors/precondition';
import { toBrokerError } from './errors-map';
import { toFieldTable } from './properties';

/** A 406 PRECONDITION_FAILED from amqplib: its reply text, else `undefined`. */
function preconditionText(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== 406) return undefined;
  return e instanceof Error ? e.message : String(e);
}

/** What we declared for a queue, as the typed error reports it. */
function queueDeclared(spec: QueueSpec): Record<string, unknown> {
  return {
    durable: spec.durable ?? true,
    exclusive: spec.exclusive ?? false,
    auto_delete: spec.autoDelete ?? false,
    ...(spec.arguments ?? {}),
  };
}

/** The `maybe_declare` cache key of a queue declaration. */
export function declarationKey(spec: QueueSpec): string {
  return JSON.stringify(spec, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/**
 * kombu `maybe_declare`: `exchange_declare`, `queue_declare`, `queue_bind` with kombu's flags
 * (`kombu/entity.py`, `Exchange.declare`, `Queue.declare`), cached per connection. Declarations
 * run on their own channel: a 406 closes the channel it happened on, and the publish and consumer
 * channels must survive it. Every queue declaration is also *remembered by queue name*, so that a
 * consumer re-declares what it consumes — auto-delete pidbox and reply queues die with their last
 * consumer — before consuming again (kombu `Consumer.revive` → `declare()`).
 */
export class Declarations {
  private cache = new Set<string>();
  private channel: Promise<Channel> | undefined;
  private readonly specs = new Map<string, QueueSpec>();

  constructor(private readonly model: () => Promise<ChannelModel>) {}

  /** A new connection: nothing is declared on it yet. */
  reset(): void {
    this.cache = new Set();
    this.channel = undefined;
  }

  isDeclared(spec: QueueSpec): boolean {
    return this.cache.has(declarationKey(spec));
  }

  /** The last declaration made for this queue name, if any. */
  specFor(queue: string): QueueSpec | undefined {
    return this.specs.get(queue);
  }

  private async declChannel(): Promise<Channel> {
    if (!this.channel) {
      const p = this.model()
        .then((m) => m.createChannel())
        .then((ch) => {
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

  /** Declare (unless cached, or `force`) and remember the declaration. */
  async declareQueue(spec: QueueSpec, force = false): Promise<void> {
    const key = declarationKey(spec);
    if (!force && this.cache.has(key)) return;
    const ch = await this.declChannel();
    const exchange = spec.exchange ?? spec.name;
    if (exchange !== '') {
      await this.declareExchange(exchange, spec.exchangeType ?? 'direct', {
        durable: spec.exchangeDurable ?? true,
        autoDelete: spec.exchangeAutoDelete ?? false,
        force,
      });
    }
    try {
      await ch.assertQueue(spec.name, {
        durable: spec.durable ?? true,
        exclusive: spec.exclusive ?? false,
        autoDelete: spec.autoDelete ?? false,
        arguments: toFieldTable(spec.arguments ?? {}, '/arguments'),
      });
    } catch (e) {
      const text = preconditionText(e);
      if (text !== undefined) {
        throw new InequivalentQueueArgumentsError(spec.name, queueDeclared(spec), text, {
          cause: e,
        });
      }
      throw toBrokerError(e, `declaring queue ${spec.name}`);
    }
    if (exchange !== '') await this.bindQueue(spec.name, exchange, spec.routingKey ?? spec.name);
    this.cache.add(key);
    // Only a declaration the broker accepted is worth repeating.
    this.specs.set(spec.name, spec);
  }

  /** kombu `Exchange.declare` (`exchange_declare` with kombu's flags), cached per connection. */
  async declareExchange(
    name: string,
    type: ExchangeType,
    opts: ExchangeOptions & { force?: boolean } = {},
  ): Promise<void> {
    const durable = opts.durable ?? true;
    const autoDelete = opts.autoDelete ?? false;
    const key = `exchange:${name}:${type}:${String(durable)}:${String(autoDelete)}`;
    if (opts.force !== true && this.cache.has(key)) return;
    const ch = await this.declChannel();
    try {
      await ch.assertExchange(name, type, { durable, autoDelete });
    } catch (e) {
      const text = preconditionText(e);
      if (text !== undefined) {
        const declared = { type, durable, auto_delete: autoDelete };
        throw new InequivalentExchangeError(name, declared, text, { cause: e });
      }
      throw toBrokerError(e, `declaring exchange ${name}`);
    }
    this.cache.add(key);
  }

  /** kombu `Queue.bind_to` (`queue_bind`). */
  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    const ch = await this.declChannel();
    try {
      await ch.bindQueue(queue, exchange, routingKey);
    } catch (e) {
      throw toBrokerError(e, `binding queue ${queue} to ${exchange} (${routingKey})`);
    }
  }

  /**
   * kombu `Exchange.bind_to(source, routing_key)` (`exchange_bind`): messages reaching `source`
   * with a matching key are routed on to `destination` (RabbitMQ exchange-to-exchange bindings).
   */
  async bindExchange(destination: string, source: string, routingKey: string): Promise<void> {
    const ch = await this.declChannel();
    try {
      await ch.bindExchange(destination, source, routingKey);
    } catch (e) {
      throw toBrokerError(e, `binding exchange ${destination} to ${source} (${routingKey})`);
    }
  }
}
