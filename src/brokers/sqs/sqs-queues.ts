import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { BrokerConnectionError } from '../../errors/errors';
import { SqsClientError, UndefinedQueueException } from '../../errors/sqs';
import type { SqsBrokerUrl } from '../url';
import { canonicalQueueName } from './naming';
import type { SqsOptions } from './options';

/**
 * SQS error → typed error: a service answer (it has an HTTP status) is a {@link SqsClientError}
 * carrying SQS's code (boto's `ClientError`); anything else (refused, reset, DNS) is a
 * {@link BrokerConnectionError} (kombu lists `socket.error`/`BotoCoreError` as connection errors).
 */
export function toSqsError(e: unknown, what: string): Error {
  if (e instanceof SqsClientError || e instanceof BrokerConnectionError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined) {
    return new SqsClientError(`${what}: ${err.name}: ${err.message}`, {
      cause: err,
      awsCode: err.name,
    });
  }
  return new BrokerConnectionError(`${what}: ${err.message}`, { cause: err });
}

/** `Channel.endpoint_url`: `http[s]://hostname[:port]` when the URL names a host. */
export function endpointUrl(url: SqsBrokerUrl, isSecure: boolean | undefined): string | undefined {
  if (url.hostname === undefined) return undefined;
  const host = url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname;
  const port = url.port === undefined ? '' : `:${String(url.port)}`;
  return `${isSecure ? 'https' : 'http'}://${host}${port}`;
}

/**
 * The SQS clients (`Channel.sqs`: one for the URL's credentials, one per predefined queue with
 * its own keys/region) and the queue-name → queue-URL cache (`Channel._queue_cache`,
 * `_update_queue_cache`, `_new_queue`, `_create_queue`).
 */
export class SqsQueues {
  private readonly cache = new Map<string, string>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly clients = new Map<string, SQSClient>();
  private readonly redrive = new Map<string, { has: boolean; at: number }>();

  constructor(
    private readonly url: SqsBrokerUrl,
    readonly opts: SqsOptions,
    private readonly now: () => number,
  ) {}

  private newClient(region: string, key?: string, secret?: string, token?: string): SQSClient {
    const endpoint = endpointUrl(this.url, this.opts.isSecure);
    const config: SQSClientConfig = { region, maxAttempts: 3 };
    if (endpoint !== undefined) config.endpoint = endpoint;
    // Without both keys the SDK's default chain (env, shared files, SSO, instance/task role) is
    // used, as boto3 does for `aws_access_key_id=None`.
    if (key !== undefined && secret !== undefined) {
      config.credentials = {
        accessKeyId: key,
        secretAccessKey: secret,
        ...(token === undefined ? {} : { sessionToken: token }),
      };
    }
    return new SQSClient(config);
  }

  /** The client for an SQS queue name (predefined queues have their own). */
  client(sqsName?: string): SQSClient {
    const q = sqsName === undefined ? undefined : this.opts.predefinedQueues.get(sqsName);
    const id = q === undefined ? '' : (sqsName ?? '');
    let c = this.clients.get(id);
    if (c === undefined) {
      c =
        q === undefined
          ? this.newClient(this.opts.region, this.url.username, this.url.password)
          : this.newClient(
              q.region ?? this.opts.region,
              q.accessKeyId ?? this.url.username,
              q.secretAccessKey ?? this.url.password,
              q.sessionToken,
            );
      this.clients.set(id, c);
    }
    return c;
  }

  /** SQS name of a kombu queue name. */
  sqsName(queue: string): string {
    return canonicalQueueName(this.opts.queueNamePrefix, queue);
  }

  /** `_update_queue_cache`: predefined URLs, or one `ListQueues(QueueNamePrefix)`. */
  async refresh(prefix: string = this.opts.queueNamePrefix): Promise<void> {
    if (this.opts.predefinedQueues.size > 0) {
      for (const [name, q] of this.opts.predefinedQueues) this.cache.set(name, q.url);
      return;
    }
    try {
      const resp = await this.client().send(
        new ListQueuesCommand(prefix === '' ? {} : { QueueNamePrefix: prefix }),
      );
      for (const u of resp.QueueUrls ?? []) this.cache.set(u.split('/').pop() ?? u, u);
    } catch (e) {
      throw toSqsError(e, 'ListQueues');
    }
  }

  /** `_new_queue`: the queue URL, listing then creating the queue when it is not known. */
  urlFor(queue: string): Promise<string> {
    const name = this.sqsName(queue);
    const hit = this.cache.get(name);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.pending.get(name);
    if (p === undefined) {
      p = this.resolve(name).finally(() => this.pending.delete(name));
      this.pending.set(name, p);
    }
    return p;
  }

  private async resolve(name: string): Promise<string> {
    await this.refresh(name);
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    if (this.opts.predefinedQueues.size > 0) {
      throw new UndefinedQueueException(
        `Queue with name '${name}' must be defined in 'predefined_queues'.`,
      );
    }
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(this.opts.visibilityTimeout),
    };
    if (name.endsWith('.fifo')) attributes.FifoQueue = 'true';
    Object.assign(attributes, this.opts.creationAttributes);
    try {
      const resp = await this.client(name).send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: attributes,
          ...(this.opts.queueTags === undefined ? {} : { tags: { ...this.opts.queueTags } }),
        }),
      );
      const u = resp.QueueUrl;
      if (u === undefined) throw new SqsClientError(`CreateQueue ${name}: no QueueUrl in reply`);
      this.cache.set(name, u);
      return u;
    } catch (e) {
      throw toSqsError(e, `CreateQueue ${name}`);
    }
  }

  /**
   * `Channel._has_redrive_policy` (kombu 5.7): read with GetQueueAttributes, reused 5 minutes; a
   * failed read counts as "has a policy" so that nothing is deleted by mistake.
   */
  async hasRedrivePolicy(sqsName: string, queueUrl: string): Promise<boolean> {
    const now = this.now();
    const c = this.redrive.get(queueUrl);
    if (c !== undefined && now - c.at < 300_000) return c.has;
    try {
      const resp = await this.client(sqsName).send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
      );
      const has = resp.Attributes?.RedrivePolicy !== undefined;
      this.redrive.set(queueUrl, { has, at: now });
      return has;
    } catch {
      return true;
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}
