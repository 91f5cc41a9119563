import type { Broker, ConsumeOptions, Consumer, Delivery, QueueSpec } from '../brokers/broker';
import type { WorkerEnv } from './worker-env';

/** Options of {@link TaskConsumer}. */
export interface TaskConsumerOptions {
  broker: Broker;
  env: WorkerEnv;
  onDelivery: (d: Delivery) => Promise<void>;
  /** The broker took back what this consumer handed out (`Consumer.on_close`). */
  onReset: (reason: Error) => void;
  /** The prefetch to ask for now (base + one per ETA-held message). */
  prefetch: () => number;
  /** `Tasks.qos_global` and its log line, decided at each start (see `./qos-mode`). */
  qos?: () => { prefetchGlobal: NonNullable<ConsumeOptions['prefetchGlobal']>; line?: string };
}

/**
 * The task-consuming step of Celery's consumer (`celery/worker/consumer/tasks.py`, `Tasks`;
 * `celery/worker/control.py`, `add_consumer`/`cancel_consumer` → `task_consumer.consume`,
 * `cancel_by_queue`): one broker consumer whose queue set changes in place, so held deliveries
 * stay valid; a broker-side reset is forwarded to the pool.
 */
export class TaskConsumer {
  private consumer: Consumer | undefined;
  private prefetchGlobal: ConsumeOptions['prefetchGlobal'];

  constructor(private readonly o: TaskConsumerOptions) {}

  private get state(): WorkerEnv['state'] {
    return this.o.env.state;
  }

  /** Declare every queue (`maybe_declare`) and start consuming them. */
  async start(): Promise<void> {
    for (const q of this.state.queues) await this.o.broker.declareQueue(q);
    const qos = this.o.qos?.();
    if (qos?.line !== undefined) this.o.env.log('info', qos.line);
    this.prefetchGlobal = qos?.prefetchGlobal;
    this.consumer = await this.consume(this.state.queues.map((q) => q.name));
  }

  private consume(queues: readonly string[]): Promise<Consumer> {
    const opts: ConsumeOptions = {
      prefetch: this.o.prefetch(),
      ...(this.prefetchGlobal === undefined ? {} : { prefetchGlobal: this.prefetchGlobal }),
      onError: (e) => {
        this.o.env.log('error', `consumer: ${e.message}`);
      },
      onReset: (reason) => {
        this.o.onReset(reason);
      },
    };
    return this.o.broker.consume(queues, (d) => this.o.onDelivery(d), opts);
  }

  async setPrefetch(n: number): Promise<void> {
    await this.consumer?.setPrefetch(n);
  }

  /** `add_consumer`: declare and consume one more queue on the running consumer. */
  async addQueue(spec: QueueSpec): Promise<void> {
    const state = this.state;
    if (state.queues.some((q) => q.name === spec.name)) return;
    await this.o.broker.declareQueue(spec);
    state.queues.push(spec);
    await this.consumer?.addQueue(spec.name);
  }

  /** `cancel_consumer`: stop consuming one queue; deliveries already handed out stay valid. */
  async cancelQueue(name: string): Promise<void> {
    const state = this.state;
    const i = state.queues.findIndex((q) => q.name === name);
    if (i < 0) return;
    state.queues.splice(i, 1);
    await this.consumer?.cancelQueue(name);
  }

  /** Stop consuming (shutdown): unacked deliveries go back to the broker. */
  async cancel(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.cancel();
  }
}
