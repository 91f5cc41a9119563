import type { Channel, Message } from 'amqplib';
import { AmqpBroker } from '../../src/brokers/amqp/amqp-broker';
import type { BrokerStatus, Consumer, Delivery } from '../../src/brokers/broker';
import { CHAOS_AMQP, produce, sleep } from '../support/worker/chaos';
import { uniq } from '../support/worker/int-helpers';
import { closeConnections, connectionsNamed, rabbitmqctl } from './amqp-chaos-support';

jest.setTimeout(240_000);

/**
 * The AMQP broker layer under what production RabbitMQ does to it, with a real Python Celery
 * producer: `rabbitmqctl close_connection` of our own connection (matched by its
 * `connection_name`), a channel error forced by the broker, and a broker-side `basic.cancel`.
 * A consumer that runs each `chaos.record` task message (sleep `ms`) keeps the ledger.
 */
interface Ledger {
  runs: Map<string, number>;
  unacked: Map<Delivery, string>;
  /**
   * Acks sent in the last moments (id → when). `basic.ack` has no reply: an ack written just
   * before the broker cut the connection may never be processed, and the message comes back —
   * an ack in flight, the same window as an unacked delivery (Celery's early ack has it too).
   */
  acked: Map<string, number>;
  /** Ids whose delivery was unacked when the broker took it back (the at-least-once window). */
  inFlight: Set<string>;
  resets: { at: number; reason: Error }[];
  firstDeliveryAfter: number[];
  voidAcks: number;
  errors: Error[];
  sessions: Set<number>;
}

/** How long before a seen reset an ack still counts as in flight (loaded CI boxes). */
const ACK_IN_FLIGHT_MS = 1000;

function ledger(): Ledger {
  return {
    runs: new Map(),
    unacked: new Map(),
    acked: new Map(),
    inFlight: new Set(),
    resets: [],
    firstDeliveryAfter: [],
    voidAcks: 0,
    errors: [],
    sessions: new Set(),
  };
}

function taskOf(d: Delivery): { id: string; ms: number } {
  const [args] = JSON.parse(Buffer.from(d.message.body).toString('utf8')) as [
    [string, string, number],
  ];
  return { id: args[1], ms: args[2] };
}

function consumeInto(
  broker: AmqpBroker,
  queue: string,
  l: Ledger,
  acksLate: boolean,
  prefetch: number,
): Promise<Consumer> {
  // A pool of prefetch/2 slots, like Celery's (prefetch = concurrency × multiplier): the early
  // ack is sent when a slot takes the task (`on_accepted`), acks_late after it ran.
  const pool = new Slots(Math.max(1, prefetch / 2));
  return broker.consume(
    [queue],
    async (d) => {
      const { id, ms } = taskOf(d);
      const session = d.session;
      const last = l.resets.at(-1);
      if (last && !l.sessions.has(session)) l.firstDeliveryAfter.push(Date.now() - last.at);
      l.sessions.add(session);
      l.unacked.set(d, id);
      const settle = async (): Promise<void> => {
        if (d.isVoid) l.voidAcks++;
        l.unacked.delete(d);
        l.acked.set(id, Date.now());
        await d.ack();
      };
      await pool.take();
      try {
        if (d.isVoid) return; // taken back while held: its redelivered copy runs instead
        if (!acksLate) await settle();
        l.runs.set(id, (l.runs.get(id) ?? 0) + 1);
        await sleep(ms);
        if (acksLate) await settle();
      } finally {
        pool.give();
      }
    },
    {
      prefetch,
      onReset: (reason) => {
        const at = Date.now();
        l.resets.push({ at, reason });
        for (const id of l.unacked.values()) l.inFlight.add(id);
        // The reset is seen after the cut; acks sent up to a second before it may be lost.
        for (const [id, t] of l.acked) if (at - t <= ACK_IN_FLIGHT_MS) l.inFlight.add(id);
        l.unacked.clear();
      },
      onError: (e) => l.errors.push(e),
    },
  );
}

class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await sleep(25);
}

function total(l: Ledger): number {
  let n = 0;
  for (const v of l.runs.values()) n += v;
  return n;
}

function report(title: string, ids: readonly string[], l: Ledger, extra: object): void {
  const lost = ids.filter((id) => (l.runs.get(id) ?? 0) === 0);
  const duplicates = ids.filter((id) => (l.runs.get(id) ?? 0) > 1);
  console.log(
    `${title}: ${JSON.stringify({
      tasks: ids.length,
      lost: lost.length,
      duplicates: duplicates.length,
      inFlightAtResets: l.inFlight.size,
      resets: l.resets.length,
      voidAcks: l.voidAcks,
      firstDeliveryAfterResetMs: l.firstDeliveryAfter,
      ...extra,
    })}`,
  );
}

describe.each([
  ['acks_late', '5.7', true],
  ['early ack', '5.2', false],
] as const)('chaos: close_connection ×10 under load (%s, Celery %s producer)', (_t, line, late) => {
  it('loses nothing, runs twice only what was in flight, recovers each time', async () => {
    const name = uniq('cw-chaos-conn');
    const broker = new AmqpBroker({ url: CHAOS_AMQP, connectionName: name });
    const statuses: { s: BrokerStatus; at: number }[] = [];
    broker.onStatus((s) => statuses.push({ s, at: Date.now() }));
    const queue = uniq('cw-chaos-amqp');
    const run = uniq('run');
    // ~20 s of work at prefetch 8 (each close takes a few seconds of rabbitmqctl).
    const ids = Array.from({ length: 300 }, (_, i) => `${run}-${String(i)}`);
    const l = ledger();
    try {
      await broker.declareQueue({ name: queue });
      await consumeInto(broker, queue, l, late, 8);
      await produce({ broker: CHAOS_AMQP, line }, { queue, run, ids, ms: 500 });
      const recoveryMs: number[] = [];
      for (let k = 0; k < CLOSES; k++) {
        const before = total(l);
        await until(() => total(l) >= before + 5, 30_000);
        const pids = await connectionsNamed(name);
        expect(pids).toHaveLength(1);
        const t0 = Date.now();
        await closeConnections(pids, `chaos test ${String(k)}`);
        await until(() => statuses.some((x) => x.at >= t0 && x.s.state === 'connected'), 30_000);
        const up = statuses.find((x) => x.at >= t0 && x.s.state === 'connected');
        const lost = statuses.find((x) => x.at >= t0 && x.s.state === 'lost');
        expect(up).toBeDefined();
        expect(lost).toBeDefined();
        // From the moment the client saw the loss (rabbitmqctl's own start-up is not counted).
        recoveryMs.push((up?.at ?? 0) - (lost?.at ?? 0));
      }
      await until(() => ids.every((id) => l.runs.has(id)), 60_000);
      await sleep(500); // late redeliveries would show up as duplicates
      report(`close_connection ${_t}`, ids, l, { recoveryMs });
      expect(ids.filter((id) => !l.runs.has(id))).toEqual([]);
      const dups = ids.filter((id) => (l.runs.get(id) ?? 0) > 1);
      expect(dups.filter((id) => !l.inFlight.has(id))).toEqual([]);
      // Nothing ran more than once per reset it lived through.
      for (const id of dups) expect(l.runs.get(id)).toBeLessThanOrEqual(1 + l.resets.length);
      // No ack storm: acks of void deliveries are counted no-ops, at most one per in-flight copy.
      expect(l.voidAcks).toBeLessThanOrEqual(l.inFlight.size * l.resets.length);
      expect(l.errors.filter((e) => /Channel closed|ack failed/i.test(e.message))).toEqual([]);
      expect(l.resets.length).toBeGreaterThanOrEqual(CLOSES);
      expect(statuses.filter((x) => x.s.state === 'lost')).toHaveLength(CLOSES);
      expect(statuses.some((x) => x.s.state === 'gave-up')).toBe(false);
    } finally {
      await broker.close();
      await rabbitmqctl(['delete_queue', queue]).catch(() => undefined);
    }
  });
});

/** Connection losses per run: the bar (10 losses under load, lost 0). */
const CLOSES = 10;

describe('chaos: the broker closes the consumer channel, the connection lives', () => {
  it('a forced channel error (406 unknown delivery tag): void, onReset, new session, lost 0', async () => {
    const broker = new AmqpBroker({ url: CHAOS_AMQP, connectionName: uniq('cw-chaos-ch') });
    const statuses: BrokerStatus[] = [];
    broker.onStatus((s) => statuses.push(s));
    const queue = uniq('cw-chaos-amqp-ch');
    const run = uniq('run');
    const ids = Array.from({ length: 30 }, (_, i) => `${run}-${String(i)}`);
    const l = ledger();
    try {
      await broker.declareQueue({ name: queue });
      const consumer = await consumeInto(broker, queue, l, true, 4);
      await produce({ broker: CHAOS_AMQP }, { queue, run, ids, ms: 150 });
      await until(() => l.unacked.size >= 4, 30_000);
      // Acking a tag the broker never sent is a channel error: RabbitMQ closes the channel with
      // 406 PRECONDITION_FAILED and requeues what it had delivered on it.
      const ch = (consumer as unknown as { session: { channel: Channel } }).session.channel;
      ch.ack({ fields: { deliveryTag: 999_999 } } as unknown as Message);
      await until(() => ids.every((id) => l.runs.has(id)), 60_000);
      await sleep(300);
      report('forced channel error', ids, l, {});
      expect(l.resets).toHaveLength(1);
      expect(l.resets[0]?.reason.message).toMatch(/406|PRECONDITION|unknown delivery tag/i);
      expect(l.sessions.size).toBe(2);
      expect(ids.filter((id) => !l.runs.has(id))).toEqual([]);
      const dups = ids.filter((id) => (l.runs.get(id) ?? 0) > 1);
      expect(dups.filter((id) => !l.inFlight.has(id))).toEqual([]);
      expect(statuses.filter((s) => s.state === 'lost')).toEqual([]);
    } finally {
      await broker.close();
      await rabbitmqctl(['delete_queue', queue]).catch(() => undefined);
    }
  });

  it('a broker-side basic.cancel (queue deleted): re-declared, consumed again', async () => {
    const broker = new AmqpBroker({ url: CHAOS_AMQP, connectionName: uniq('cw-chaos-cancel') });
    const queue = uniq('cw-chaos-amqp-cancel');
    const run = uniq('run');
    const l = ledger();
    try {
      await broker.declareQueue({ name: queue });
      await consumeInto(broker, queue, l, true, 4);
      await rabbitmqctl(['delete_queue', queue]);
      await until(() => l.resets.length === 1, 10_000);
      expect(l.resets[0]?.reason.message).toMatch(/cancelled by the broker/);
      // Re-declared by the consumer itself (nobody else declares it): present, one consumer.
      await until(() => l.sessions.size > 0 || l.resets.length > 0, 1000);
      await sleep(500);
      const list = await rabbitmqctl(['list_queues', '-q', 'name', 'consumers']);
      expect(list).toMatch(new RegExp(`${queue}\\s+1\\b`));
      const ids = [`${run}-after`];
      await produce({ broker: CHAOS_AMQP }, { queue, run, ids, ms: 1 });
      await until(() => l.runs.has(ids[0] ?? ''), 20_000);
      expect(l.runs.get(ids[0] ?? '')).toBe(1);
    } finally {
      await broker.close();
      await rabbitmqctl(['delete_queue', queue]).catch(() => undefined);
    }
  });
});
