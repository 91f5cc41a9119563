import { BrokerError } from './errors';

/**
 * RabbitMQ refused a declaration because the entity exists with other properties (406
 * PRECONDITION_FAILED; py-amqp raises `amqp.exceptions.PreconditionFailed`). RabbitMQ names one
 * differing argument in its reply text, e.g. `inequivalent arg 'x-queue-type' for queue 'q' in
 * vhost '/': received none but current is the value 'quorum' of type 'longstr'`; that argument,
 * both values and the full set we declared are kept on the error.
 */
export class PreconditionFailedError extends BrokerError {
  /** `queue` or `exchange`. */
  readonly entity: 'queue' | 'exchange';
  /** Queue or exchange name. */
  readonly entityName: string;
  /** The argument RabbitMQ named (`x-queue-type`, `type`, `durable`, …), if it named one. */
  readonly argument: string | undefined;
  /** What we sent for it, in RabbitMQ's words (`none`, `'direct'`, …). */
  readonly received: string | undefined;
  /** What the existing entity has, in RabbitMQ's words (`'quorum'`, `'topic'`, …). */
  readonly current: string | undefined;
  /** Everything we declared: flags and `x-` arguments. */
  readonly declared: Readonly<Record<string, unknown>>;

  constructor(
    entity: 'queue' | 'exchange',
    entityName: string,
    declared: Readonly<Record<string, unknown>>,
    replyText: string,
    options?: ErrorOptions,
  ) {
    const p = parseInequivalent(replyText);
    super(describe(entity, entityName, declared, p, replyText), { ...options, replyCode: 406 });
    this.name = 'PreconditionFailedError';
    this.entity = entity;
    this.entityName = entityName;
    this.argument = p?.argument;
    this.received = p?.received;
    this.current = p?.current;
    this.declared = declared;
  }
}

/** A queue exists with other arguments (`x-queue-type`, `x-max-priority`, `durable`, …). */
export class InequivalentQueueArgumentsError extends PreconditionFailedError {
  constructor(
    queue: string,
    declared: Readonly<Record<string, unknown>>,
    replyText: string,
    options?: ErrorOptions,
  ) {
    super('queue', queue, declared, replyText, options);
    this.name = 'InequivalentQueueArgumentsError';
  }
}

/** An exchange exists with another type or other flags (`type`, `durable`, `auto_delete`). */
export class InequivalentExchangeError extends PreconditionFailedError {
  constructor(
    exchange: string,
    declared: Readonly<Record<string, unknown>>,
    replyText: string,
    options?: ErrorOptions,
  ) {
    super('exchange', exchange, declared, replyText, options);
    this.name = 'InequivalentExchangeError';
  }
}

interface Inequivalent {
  argument: string;
  received: string;
  current: string;
}

/** RabbitMQ's `rabbit_misc:equivalence_fail` text: `inequivalent arg 'A' for … received X but current is Y`. */
export function parseInequivalent(text: string): Inequivalent | undefined {
  // amqplib wraps the reply text: `… with message "PRECONDITION_FAILED - inequivalent …"`.
  const m = /inequivalent arg '([^']+)' for .*?: received (.+?) but current is (.+?)"?$/s.exec(
    text,
  );
  if (!m) return undefined;
  const current = (m[3] ?? '').replace(/^the value (.+) of type '[^']+'$/s, '$1');
  const received = (m[2] ?? '').replace(/^the value (.+) of type '[^']+'$/s, '$1');
  return { argument: m[1] ?? '', received, current };
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'bigint') return v.toString();
  const json = JSON.stringify(v) as string | undefined;
  return json ?? String(v);
}

function describe(
  entity: 'queue' | 'exchange',
  name: string,
  declared: Readonly<Record<string, unknown>>,
  p: Inequivalent | undefined,
  replyText: string,
): string {
  const ours = `{${Object.entries(declared)
    .map(([k, v]) => `'${k}': ${show(v)}`)
    .join(', ')}}`;
  const theirs = p ? `{'${p.argument}': ${p.current}}` : '(not named by the broker)';
  const hint =
    entity === 'queue'
      ? `declare it as it exists: taskDefaultQueueType: 'quorum' for the default queue, or a ` +
        `taskQueues entry { name: '${name}', queueArguments: { … } } with the same arguments`
      : `declare it as it exists: the same exchange type (taskDefaultExchangeType, or ` +
        `exchangeType of the taskQueues entry / route)`;
  return (
    `${entity} '${name}' already exists with other arguments: we declared ${ours}, the broker ` +
    `has ${theirs}; ${hint} (RabbitMQ: ${replyText})`
  );
}
