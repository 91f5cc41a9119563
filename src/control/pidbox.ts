import type { Broker, Subscription } from '../brokers/broker';
import { isFanoutBroker, type FanoutBroker, type FanoutMessage } from '../brokers/fanout';
import { BrokerError, InconsistencyError } from '../errors/errors';
import type { LamportClock } from '../events/clock';
import { controlReplyMessage, parseControlRequest } from '../protocol/control';
import { pyRepr } from '../protocol/repr';
import type { JsonDialect } from '../serialization/python-json';
import { isPyDict, PyFloat, type PyValue } from '../serialization/py-values';
import { loads } from '../serialization/registry';

/** A control command handler: keyword arguments in, reply value out (`Panel.data`). */
export type ControlHandler = (args: Record<string, PyValue>) => PyValue | Promise<PyValue>;

/** Options of {@link PidboxNode}. */
export interface PidboxNodeOptions {
  broker: Broker;
  hostname: string;
  clock: LamportClock;
  handlers: ReadonlyMap<string, ControlHandler>;
  /** `control_exchange` (default `celery`): exchanges `<ns>.pidbox` and `reply.<ns>.pidbox`. */
  namespace?: string;
  /** `accept_content` for incoming commands (the mailbox follows task_serializer since 5.1). */
  accept?: readonly string[];
  /**
   * Reply serializer: the mailbox's, which Celery sets to `task_serializer`
   * (`celery/app/control.py`, `Control.__init__`); default the request's own content type.
   */
  serializer?: string;
  /** JSON dialect of replies (`jsonDialect` setting); default the newest kombu's. */
  jsonDialect?: JsonDialect;
  onError?: (err: Error) => void;
  log?: (msg: string) => void;
  /** `control_queue_exclusive` (Celery 5.7.0: true; before: false). */
  queueExclusive?: boolean;
  /**
   * Checked for each command addressed to this node before dispatch; false: no reply at all.
   * Beat's node answers `ping` only and stays silent otherwise (`celery/beat.py`, `BeatPidbox`).
   */
  admits?: (method: string) => boolean;
}

/** kombu `matcher`: `glob` (fnmatch) and `pcre` (re.search). */
function matches(hostname: string, pattern: string, matcher: string): boolean {
  if (matcher === 'pcre') return new RegExp(pattern).test(hostname);
  const re = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(hostname);
}

/**
 * kombu's pidbox `Node` as a Celery worker runs it (`kombu/pidbox.py`, `Node.listen`,
 * `handle_message`, `dispatch`, `Mailbox._publish_reply`): queue `<hostname>.<ns>.pidbox` bound
 * to the fanout `<ns>.pidbox`, consumed with no_ack; replies `{hostname: value}` to
 * `reply.<ns>.pidbox` with headers `{ticket, clock}`, delivery_mode 1.
 */
export class PidboxNode {
  private consumer: Subscription | undefined;
  private readonly ns: string;

  constructor(private readonly o: PidboxNodeOptions) {
    this.ns = o.namespace ?? 'celery';
  }

  async start(): Promise<void> {
    const b = this.o.broker;
    if (!isFanoutBroker(b)) throw new Error('broker cannot consume fanout exchanges');
    const exchange = `${this.ns}.pidbox`;
    await b.declareExchange(exchange, 'fanout', { durable: false, autoDelete: false });
    this.consumer = await this.listen(b, exchange);
  }

  /**
   * `Node.listen`. An exclusive pidbox queue (Celery 5.7 on RabbitMQ) held by another connection
   * is refused with 405 RESOURCE_LOCKED: kombu turns that into `InconsistencyError` with its
   * `W_PIDBOX_IN_USE` text, which says what to do; so do we.
   */
  private async listen(b: FanoutBroker, exchange: string): Promise<Subscription> {
    try {
      return await this.subscribe(b, exchange);
    } catch (e) {
      if (e instanceof BrokerError && e.replyCode === 405) {
        throw new InconsistencyError(
          `A node named ${this.o.hostname} is already using this process mailbox!\n\n` +
            'Maybe you forgot to shutdown the other node or did not do so properly?\n' +
            'Or if you meant to start multiple nodes on the same host please make sure\n' +
            'you give each node a unique node name!',
          { cause: e, replyCode: 405 },
        );
      }
      throw e;
    }
  }

  private subscribe(b: FanoutBroker, exchange: string): Promise<Subscription> {
    return b.subscribeFanout(
      {
        name: `${this.o.hostname}.${exchange}`,
        exchange,
        exchangeType: 'fanout',
        routingKey: '',
        durable: false,
        exchangeDurable: false,
        autoDelete: true,
        exclusive: this.o.queueExclusive ?? false,
        // `celery/app/defaults.py`: control_queue_expires 10.0 s, control_queue_ttl 300.0 s.
        arguments: { 'x-expires': 10000, 'x-message-ttl': 300000 },
      },
      (m) => {
        void this.onMessage(m);
      },
      this.o.onError,
    );
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.cancel();
  }

  /** Handle one command message (`Node.handle_message`); malformed requests are reported. */
  private async onMessage(m: FanoutMessage): Promise<void> {
    try {
      const raw = m.message;
      const body = loads(raw.body, raw.contentType, raw.contentEncoding, {
        accept: this.o.accept ?? ['json', 'msgpack', 'yaml'],
      });
      if (!isPyDict(body)) return;
      this.o.clock.adjust(raw.headers.clock ?? 0);
      await this.handle(body, raw.contentType);
    } catch (e) {
      this.o.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * `Node.handle_message` + `dispatch`; returns the reply value or undefined when not for us.
   * The request is read by `parseControlRequest` and the reply written by `controlReplyMessage`
   * (`src/protocol/control.ts`, fixture-tested against kombu's own output).
   */
  async handle(
    body: Record<string, PyValue>,
    contentType = 'application/json',
  ): Promise<PyValue | undefined> {
    const req = parseControlRequest(body);
    const host = this.o.hostname;
    let run = false;
    if (req.destination !== null && req.destination.length > 0) {
      run = req.destination.includes(host);
    } else if (req.pattern && req.matcher) run = matches(host, req.pattern, req.matcher);
    else run = true;
    if (!run) return undefined;
    const method = req.method;
    if (this.o.admits && !this.o.admits(method)) return undefined;
    let reply: PyValue;
    const h = this.o.handlers.get(method);
    try {
      if (!h) throw new KeyError(method);
      reply = await h(req.arguments);
    } catch (e) {
      // kombu `Node.dispatch`: `reply = {'error': repr(exc)}`.
      reply = {
        error:
          e instanceof KeyError
            ? `KeyError(${pyRepr(method)})`
            : e instanceof PyControlError
              ? `${e.pyType}(${pyRepr(e.message)})`
              : `Exception(${pyRepr(e instanceof Error ? e.message : String(e))})`,
      };
    }
    this.o.log?.(`pidbox: ${method} → ${pyRepr(reply)}`);
    // `shutdown` raises WorkerShutdown (a SystemExit) in Celery: `dispatch` re-raises it, no reply.
    if (method === 'shutdown') return reply;
    if (req.replyTo) await this.reply(reply, req.replyTo, req.ticket, contentType);
    return reply;
  }

  /** `Node.reply` → `Mailbox._publish_reply` (serializer: the mailbox's, i.e. task_serializer). */
  private async reply(
    reply: PyValue,
    replyTo: { exchange: string; routing_key: string },
    ticket: string | null,
    requestContentType: string,
  ): Promise<void> {
    const b = this.o.broker;
    if (isFanoutBroker(b)) await b.declareExchange(replyTo.exchange, 'direct', { durable: false });
    const base = {
      hostname: this.o.hostname,
      reply,
      ticket,
      clock: this.o.clock.forward(),
      replyTo,
      ...(this.o.jsonDialect === undefined ? {} : { jsonDialect: this.o.jsonDialect }),
    };
    let pub;
    try {
      pub = controlReplyMessage({ ...base, serializer: this.o.serializer ?? requestContentType });
    } catch {
      pub = controlReplyMessage({ ...base, serializer: 'json' });
    }
    await b.publish(pub.message, { exchange: pub.exchange, routingKey: pub.routingKey });
  }
}

class KeyError extends Error {}

/** A command failing as the Python one raises (`ValueError('Autoscale not enabled')`). */
export class PyControlError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = 'PyControlError';
  }
}

/** `ok(value)` / `nok(value)` of `celery/worker/control.py`. */
export const ok = (v: PyValue): PyValue => ({ ok: v });
export const nok = (v: PyValue): PyValue => ({ error: v });
/** Seconds as a Python float. */
export const pyFloat = (x: number): PyFloat => new PyFloat(x);
