import type { PyValue } from '../serialization/py-values';
import {
  flattenReply,
  type BroadcastOptions,
  type MailboxClient,
  type NodeReply,
} from './mailbox-client';

/** Options of {@link Control.inspect} (`Inspect(destination, timeout, callback, limit, …)`). */
export interface InspectOptions {
  /** Node names; a single name makes each method answer that node's reply alone. */
  destination?: string | readonly string[];
  /** Seconds to wait for the next reply (default 1.0). */
  timeout?: number;
  limit?: number;
  callback?: (reply: NodeReply) => void;
  pattern?: string;
  matcher?: 'glob' | 'pcre';
}

/** Replies by node name, or null when no node replied (Celery returns None). */
export type ByNode<T = PyValue> = Record<string, T> | null;

/**
 * `celery/app/control.py`, `Inspect`: each method broadcasts one inspect command with a reply
 * and returns the replies by node (`_prepare` → `flatten_reply`).
 */
export class Inspect {
  constructor(
    private readonly mb: MailboxClient,
    private readonly o: InspectOptions = {},
  ) {}

  /** `Inspect._request(command, **kwargs)`: any command, replies by node. */
  async request(command: string, args: Readonly<Record<string, PyValue>> = {}): Promise<PyValue> {
    const d = this.o.destination;
    const replies = await this.mb.broadcast(command, args, {
      reply: true,
      destination: d === undefined ? null : typeof d === 'string' ? [d] : d,
      ...(this.o.timeout === undefined ? {} : { timeout: this.o.timeout }),
      ...(this.o.limit === undefined ? {} : { limit: this.o.limit }),
      ...(this.o.callback ? { callback: this.o.callback } : {}),
      ...(this.o.pattern === undefined ? {} : { pattern: this.o.pattern }),
      ...(this.o.matcher === undefined ? {} : { matcher: this.o.matcher }),
    });
    if (!replies || replies.length === 0) return null;
    const byNode = flattenReply(replies);
    if (typeof d === 'string') return byNode[d] ?? null;
    return byNode;
  }

  private req<T>(command: string, args: Readonly<Record<string, PyValue>> = {}): Promise<T> {
    return this.request(command, args) as Promise<T>;
  }

  ping(): Promise<ByNode<{ ok: 'pong' }>> {
    return this.req('ping');
  }
  report(): Promise<ByNode<{ ok: string }>> {
    return this.req('report');
  }
  clock(): Promise<ByNode<{ clock: number }>> {
    return this.req('clock');
  }
  active(safe: boolean | null = null): Promise<ByNode<PyValue[]>> {
    return this.req('active', { safe });
  }
  scheduled(): Promise<ByNode<PyValue[]>> {
    return this.req('scheduled');
  }
  reserved(): Promise<ByNode<PyValue[]>> {
    return this.req('reserved');
  }
  stats(): Promise<ByNode<Record<string, PyValue>>> {
    return this.req('stats');
  }
  revoked(): Promise<ByNode<string[]>> {
    return this.req('revoked');
  }
  registered(...taskinfoitems: string[]): Promise<ByNode<string[]>> {
    return this.req('registered', { taskinfoitems });
  }
  activeQueues(): Promise<ByNode<PyValue[]>> {
    return this.req('active_queues');
  }
  queryTask(...ids: string[]): Promise<ByNode<Record<string, PyValue>>> {
    return this.req('query_task', { ids });
  }
  conf(withDefaults = false): Promise<ByNode<Record<string, PyValue>>> {
    return this.req('conf', { with_defaults: withDefaults });
  }
  hello(fromNode: string, revoked: PyValue = null): Promise<ByNode> {
    return this.req('hello', { from_node: fromNode, revoked });
  }
  memsample(): Promise<ByNode> {
    return this.req('memsample');
  }
  memdump(samples = 10): Promise<ByNode> {
    return this.req('memdump', { samples });
  }
  objgraph(type = 'Request', n = 200, maxDepth = 10): Promise<ByNode> {
    return this.req('objgraph', { num: n, max_depth: maxDepth, type });
  }
}

/** `reply`/`timeout`/`destination`… of a control call (`Control.broadcast`'s keywords). */
export type ControlCallOptions = BroadcastOptions;

/**
 * `app.control` (`celery/app/control.py`, `Control`): broadcast control commands; without
 * `reply: true` they are fire-and-forget (resolve to undefined), with it they resolve to the
 * list of `{node: reply}` as Celery returns.
 */
export class Control {
  constructor(private readonly mb: MailboxClient) {}

  /** `control.inspect(...)`. */
  inspect(o: InspectOptions = {}): Inspect {
    return new Inspect(this.mb, o);
  }

  /** `Control.broadcast(command, arguments, destination, reply, timeout, limit, callback)`. */
  broadcast(
    command: string,
    args: Readonly<Record<string, PyValue>> = {},
    o: ControlCallOptions = {},
  ): Promise<NodeReply[] | undefined> {
    return this.mb.broadcast(command, args, o);
  }

  /** `Control.ping`: always with replies. */
  async ping(o: Omit<ControlCallOptions, 'reply'> = {}): Promise<NodeReply[]> {
    return (await this.mb.broadcast('ping', {}, { ...o, reply: true })) ?? [];
  }

  revoke(
    taskId: string | readonly string[],
    o: ControlCallOptions & { terminate?: boolean; signal?: string } = {},
  ): Promise<NodeReply[] | undefined> {
    const { terminate = false, signal = 'SIGTERM', ...rest } = o;
    const task_id = typeof taskId === 'string' ? taskId : [...taskId];
    return this.broadcast('revoke', { task_id, terminate, signal }, rest);
  }
  terminate(
    taskId: string | readonly string[],
    o: ControlCallOptions & { signal?: string } = {},
  ): Promise<NodeReply[] | undefined> {
    return this.revoke(taskId, { ...o, terminate: true });
  }
  revokeByStampedHeaders(
    headers: Readonly<Record<string, PyValue>>,
    o: ControlCallOptions & { terminate?: boolean; signal?: string } = {},
  ): Promise<NodeReply[] | undefined> {
    const { terminate = false, signal = 'SIGTERM', ...rest } = o;
    return this.broadcast('revoke_by_stamped_headers', { headers, terminate, signal }, rest);
  }
  rateLimit(taskName: string, rateLimit: string | number, o: ControlCallOptions = {}) {
    return this.broadcast('rate_limit', { task_name: taskName, rate_limit: rateLimit }, o);
  }
  timeLimit(
    taskName: string,
    limits: { soft?: number | null; hard?: number | null },
    o: ControlCallOptions = {},
  ) {
    const args = { task_name: taskName, hard: limits.hard ?? null, soft: limits.soft ?? null };
    return this.broadcast('time_limit', args, o);
  }
  addConsumer(
    queue: string,
    q: { exchange?: string; exchangeType?: string; routingKey?: string } = {},
    o: ControlCallOptions = {},
  ) {
    const args = {
      queue,
      exchange: q.exchange ?? null,
      exchange_type: q.exchangeType ?? 'direct',
      routing_key: q.routingKey ?? null,
    };
    return this.broadcast('add_consumer', args, o);
  }
  cancelConsumer(queue: string, o: ControlCallOptions = {}) {
    return this.broadcast('cancel_consumer', { queue }, o);
  }
  enableEvents(o: ControlCallOptions = {}) {
    return this.broadcast('enable_events', {}, o);
  }
  disableEvents(o: ControlCallOptions = {}) {
    return this.broadcast('disable_events', {}, o);
  }
  poolGrow(n = 1, o: ControlCallOptions = {}) {
    return this.broadcast('pool_grow', { n }, o);
  }
  poolShrink(n = 1, o: ControlCallOptions = {}) {
    return this.broadcast('pool_shrink', { n }, o);
  }
  autoscale(max: number, min: number, o: ControlCallOptions = {}) {
    return this.broadcast('autoscale', { max, min }, o);
  }
  poolRestart(r: { modules?: string[] | null; reload?: boolean } = {}, o: ControlCallOptions = {}) {
    const args = { modules: r.modules ?? null, reload: r.reload ?? false, reloader: null };
    return this.broadcast('pool_restart', args, o);
  }
  heartbeat(o: ControlCallOptions = {}) {
    return this.broadcast('heartbeat', {}, o);
  }
  shutdown(o: ControlCallOptions = {}) {
    return this.broadcast('shutdown', {}, o);
  }
  election(id: string, topic: string, action: string | null = null) {
    return this.broadcast('election', { id, topic, action });
  }

  /** Stop listening for replies. */
  close(): Promise<void> {
    return this.mb.close();
  }
}
