import { createApp, type CeleryApp } from '../../src/app/app';
import type { EventReceiver } from '../../src/events/receiver';
import type { CeleryEvent } from '../../src/events/state';
import { startPythonWorker, type PythonWorker } from './client/python-worker';
import { startNodeWorker, type NodeWorkerProcess } from './node-worker';
import {
  Checklist,
  celeryCli,
  normalize,
  repliesOf,
  type CliRun,
  type Side,
} from './operator-checks';
import { REDIS_URL, peerEnv } from './worker/int-helpers';

type Rec = Record<string, unknown>;
export type Pair = [Side, Side];
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The workers of test/integration/operator-checks.test.ts and the CLI runs against them: two
 * pairs (Python 5.7 prefork, `celery-wire worker -P prefork`) on Redis, each worker consuming the
 * queue named as its node; a fixed pair (-c 2) and an autoscaling pair (--autoscale 3,1).
 */
export class OperatorRig {
  readonly list = new Checklist();
  readonly env = peerEnv({ broker: REDIS_URL, backend: REDIS_URL });
  readonly py: Side;
  readonly ts: Side;
  readonly pyA: Side;
  readonly tsA: Side;
  readonly events: CeleryEvent[] = [];
  private app: CeleryApp | undefined;
  private receiver: EventReceiver | undefined;
  private workers: (PythonWorker | NodeWorkerProcess)[] = [];

  constructor(base: string) {
    // Each side's queue/node prefix becomes `<w>` in its replies, so the two compare.
    const mk = (k: string): Side => ({
      node: `${base}-${k}@ops`,
      subst: new Map([[`${base}-${k}`, '<w>']]),
    });
    this.py = mk('py');
    this.ts = mk('ts');
    this.pyA = mk('pya');
    this.tsA = mk('tsa');
  }

  /** The queue a worker consumes (its node name without `@ops`). */
  q(s: Side): string {
    return s.node.split('@')[0] ?? '';
  }

  /** The real id of the side's task `<id:label>`. */
  idOf(s: Side, label: string): string {
    return [...s.subst].find(([, v]) => v === `<id:${label}>`)?.[0] ?? '';
  }

  async start(): Promise<void> {
    const common = { brokerUrl: REDIS_URL, resultBackend: REDIS_URL, line: '5.7' as const };
    const env = { ...process.env, CELERY_BROKER_URL: REDIS_URL, CELERY_RESULT_BACKEND: REDIS_URL };
    // worker.sh starts Celery with -E; the TS workers get -E too.
    const ts = (s: Side, extra: string[]): Promise<NodeWorkerProcess> =>
      startNodeWorker({
        args: ['--app', 'conformance/app/index.ts', '-P', 'prefork', '-Q', this.q(s)]
          .concat(['-n', s.node, '-E'])
          .concat(extra),
        env,
        readyTimeoutMs: 120_000,
      });
    const py = (s: Side, extra: string[]): Promise<PythonWorker> =>
      startPythonWorker({
        ...common,
        queues: this.q(s),
        nodename: s.node,
        pool: 'prefork',
        extraArgs: extra,
      });
    const started = await Promise.allSettled([
      py(this.py, []),
      py(this.pyA, ['--autoscale', '3,1']),
      ts(this.ts, ['-c', '2']),
      ts(this.tsA, ['--autoscale', '3,1']),
    ]);
    for (const r of started) if (r.status === 'fulfilled') this.workers.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.app = createApp({ brokerUrl: REDIS_URL, resultBackend: REDIS_URL });
    this.receiver = await this.app.eventReceiver();
    this.receiver.on('*', (e: CeleryEvent) => this.events.push(e));
  }

  async stop(): Promise<void> {
    await this.receiver?.close();
    await this.app?.close();
    await Promise.all(this.workers.map((w) => w.stop()));
  }

  /** One CLI run addressed to both workers of a pair; the two normalized replies. */
  async both(args: string[], pair: Pair = [this.py, this.ts]): Promise<[unknown, unknown]> {
    const dest = `${pair[0].node},${pair[1].node}`;
    const r = repliesOf(
      (await celeryCli([...args, '--json', '-t', '3', '-d', dest], this.env)).stdout,
    );
    return [normalize(r[pair[0].node], pair[0]), normalize(r[pair[1].node], pair[1])];
  }

  /** One CLI run per worker (arguments naming its queue or tasks): stdout, last stderr line. */
  async each(
    args: (s: Side) => string[],
    pair: Pair = [this.py, this.ts],
  ): Promise<[CliRun, CliRun]> {
    const runs = await Promise.all(pair.map((s) => celeryCli(args(s), this.env)));
    const n = (r: CliRun | undefined, s: Side): CliRun => ({
      stdout: normalize(r?.stdout.trim() ?? '', s) as string,
      stderr: normalize((r?.stderr.trim() ?? '').split('\n').pop() ?? '', s) as string,
      code: r?.code ?? -1,
    });
    return [n(runs[0], pair[0]), n(runs[1], pair[1])];
  }

  /** `celery control|inspect <args(s)> -d <node>` per worker: the normalized replies. */
  async eachReply(
    args: (s: Side) => string[],
    pair: Pair = [this.py, this.ts],
  ): Promise<[unknown, unknown]> {
    const one = async (s: Side): Promise<unknown> => {
      const out = await celeryCli([...args(s), '--json', '-t', '3', '-d', s.node], this.env);
      return normalize(repliesOf(out.stdout)[s.node], s);
    };
    const [a, b] = await Promise.all(pair.map(one));
    return [a, b];
  }

  /** A command whose whole reply is one row, compared by value. */
  async value(args: string[], pair?: Pair): Promise<[unknown, unknown]> {
    const [p, t] = await this.both(args, pair);
    this.list.add(`celery ${args.join(' ')}`, 'reply', p, t, 'value');
    return [p, t];
  }

  /** Send a task to each worker of the pair; its id is `<id:label>` in that side's replies. */
  async send(
    label: string,
    name: string,
    o: { args?: unknown[]; countdown?: number; headers?: Rec; queue?: string } = {},
    pair: Pair = [this.py, this.ts],
  ): Promise<[string, string]> {
    const app = this.client();
    const ids = await Promise.all(
      pair.map(async (s) => {
        const r = await app.sendTask(name, {
          args: (o.args ?? []) as never,
          queue: `${this.q(s)}${o.queue ?? ''}`,
          ...(o.countdown === undefined ? {} : { countdown: o.countdown }),
          ...(o.headers === undefined ? {} : { headers: o.headers as never }),
        });
        s.subst.set(r.id, `<id:${label}>`);
        return r.id;
      }),
    );
    return [ids[0] ?? '', ids[1] ?? ''];
  }

  async status(id: string): Promise<string> {
    return (await this.client().asyncResult(id).meta()).status;
  }

  /** The task's result, or the error's text. */
  result(id: string): Promise<unknown> {
    return this.client()
      .asyncResult(id)
      .get({ timeout: 15 })
      .catch((e: unknown) => String(e));
  }

  async until(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await probe()) return;
      await sleep(200);
    }
    throw new Error(`never happened: ${what}`);
  }

  private client(): CeleryApp {
    if (!this.app) throw new Error('OperatorRig not started');
    return this.app;
  }
}
