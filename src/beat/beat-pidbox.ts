import { hostname as osHostname } from 'node:os';
import type { Broker } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import { PidboxNode } from '../control/pidbox';
import { LamportClock } from '../events/clock';
import type { JsonDialect } from '../serialization/python-json';
import { workerNodename } from '../util/hostname';
import type { BeatLogger } from './beat';

/**
 * `beat_nodename(hostname)` (`celery/beat.py`): the worker's resolution with `celerybeat` as the
 * default name — a bare host gains `celerybeat@`, and `%h`/`%n`/`%d` expand as for `worker -n`.
 */
export function beatNodename(name?: string | null, host: string = osHostname()): string {
  const at = (name ?? '').indexOf('@');
  const [n, h] =
    at < 0 ? ['', name ?? ''] : [(name ?? '').slice(0, at), (name ?? '').slice(at + 1)];
  return workerNodename(`${n || 'celerybeat'}@${h || host}`, host);
}

/** Options of {@link BeatPidbox}. */
export interface BeatPidboxOptions {
  readonly broker: Broker;
  /** `-n/--hostname` (default `celerybeat@%h`). */
  readonly hostname?: string | null;
  /** The scheduler's loop interval (s): the stale limit is twice it, at least 60 s. */
  readonly maxInterval: number;
  /** `beat_remote_control_max_tick_age` (s); `0` disables the check. */
  readonly maxTickAge?: number | null;
  /** Seconds since the scheduler's last pass, `null` before the first (`Beat.tickAge`). */
  readonly tickAge: () => number | null;
  readonly namespace?: string;
  readonly accept?: readonly string[];
  /** The mailbox's serializer (`task_serializer`). */
  readonly serializer?: string;
  readonly jsonDialect?: JsonDialect;
  readonly queueExclusive?: boolean;
  /** For the log line `beat pidbox: Connected to <uri>.` (passwords already masked). */
  readonly brokerUri?: string;
  readonly log?: BeatLogger;
}

/** `BeatPidbox.min_tick_age`. */
const MIN_TICK_AGE = 60.0;

/**
 * Celery 5.7's `BeatPidbox` (`celery/beat.py`): a `celerybeat@host` pidbox node on the workers'
 * `celery.pidbox` fanout, so `celery inspect ping` (optionally `-d celerybeat@host`) reaches
 * beat. Only `ping` is answered (`{'ok': 'pong'}`); other commands get no reply, so worker-only
 * commands stay clean. Once the scheduler has not ticked for `maxTickAge` seconds the node stays
 * silent, which is what a liveness probe can act on (`celery inspect` exits non-zero).
 */
export class BeatPidbox {
  readonly hostname: string;
  private node: PidboxNode | undefined;

  constructor(private readonly o: BeatPidboxOptions) {
    this.hostname = beatNodename(o.hostname);
  }

  /** `max_tick_age`: the setting, else twice the loop interval with a 60 s floor. */
  get maxTickAge(): number {
    return this.o.maxTickAge ?? Math.max(this.o.maxInterval * 2, MIN_TICK_AGE);
  }

  /** `is_stale`. */
  isStale(): boolean {
    const max = this.maxTickAge;
    if (!max) return false;
    const age = this.o.tickAge();
    return age !== null && age > max;
  }

  async start(): Promise<void> {
    const log = this.o.log ?? (() => undefined);
    const b = this.o.broker;
    if (!isFanoutBroker(b)) {
      log(
        'warning',
        'beat pidbox: the transport has no fanout exchanges, so remote control is unavailable.',
      );
      return;
    }
    this.node = new PidboxNode({
      broker: b,
      hostname: this.hostname,
      clock: new LamportClock(),
      handlers: new Map([['ping', () => ({ ok: 'pong' })]]),
      ...(this.o.namespace === undefined ? {} : { namespace: this.o.namespace }),
      ...(this.o.accept === undefined ? {} : { accept: this.o.accept }),
      ...(this.o.serializer === undefined ? {} : { serializer: this.o.serializer }),
      ...(this.o.jsonDialect === undefined ? {} : { jsonDialect: this.o.jsonDialect }),
      ...(this.o.queueExclusive === undefined ? {} : { queueExclusive: this.o.queueExclusive }),
      // `BeatPidbox.on_message`: commands beat has no handler for are ignored silently;
      // `_BeatNode.dispatch`: a stale scheduler answers nothing, with a warning.
      admits: (method) => {
        if (method !== 'ping') return false;
        if (!this.isStale()) return true;
        log(
          'warning',
          `beat pidbox: not answering ${method}, the scheduler has not ticked for ` +
            `${(this.o.tickAge() ?? 0).toFixed(1)}s (over the ${String(this.maxTickAge)}s limit).`,
        );
        return false;
      },
      onError: (e) => {
        log('error', `beat pidbox command error: ${e.message}`);
      },
    });
    await this.node.start();
    log('info', `beat pidbox: Connected to ${this.o.brokerUri ?? 'the broker'}.`);
  }

  async stop(): Promise<void> {
    const n = this.node;
    this.node = undefined;
    await n?.stop();
  }
}
