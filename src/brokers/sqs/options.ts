import { CeleryError } from '../../errors/errors';
import { InvalidQueueException } from '../../errors/sqs';
import { getProfile, type CeleryProfileName, type SqsProfile } from '../../protocol/profiles';

/**
 * kombu's SQS transport options (`broker_transport_options`), read the way
 * `kombu/transport/SQS` (`Channel` cached properties) reads them in kombu 5.2.4 and 5.7.0. Pure:
 * the environment is passed in.
 */

/**
 * Which line's SQS behaviour to reproduce where kombu's lines differ: a Celery profile name, or
 * the short `'5.2'`/`'5.7'`. The differences themselves are the profile's `sqs` flags.
 */
export type SqsLine = '5.2' | '5.7' | CeleryProfileName;

/** The `sqs` flags of a line. */
export function sqsProfileOf(line: SqsLine): SqsProfile {
  return getProfile(
    line.startsWith('celery-') ? (line as CeleryProfileName) : `celery-${line as '5.2' | '5.7'}`,
  ).sqs;
}

/** One `predefined_queues` entry. */
export interface PredefinedQueue {
  readonly url: string;
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  readonly sessionToken: string | undefined;
  readonly region: string | undefined;
  /** `backoff_policy`: ApproximateReceiveCount → visibility timeout (s) set on reject. */
  readonly backoffPolicy: ReadonlyMap<number, number>;
  readonly backoffTasks: readonly string[];
}

export interface SqsOptions {
  readonly line: SqsLine;
  /** The line's kombu SQS behaviour (`CeleryProfile.sqs`). */
  readonly kombu: SqsProfile;
  /** `region` or the AWS environment's region or `us-east-1` (`Channel.region`). */
  readonly region: string;
  readonly queueNamePrefix: string;
  /** `visibility_timeout`, seconds; set on the queues this transport creates (default 1800). */
  readonly visibilityTimeout: number;
  /** `wait_time_seconds`: long-polling wait of each ReceiveMessage (default 10, SQS max 20). */
  readonly waitTimeSeconds: number;
  /** `polling_interval` (virtual transport, default 1 s): pause after an empty receive. */
  readonly pollingInterval: number;
  /** `sqs_base64_encoding` (default true). */
  readonly base64: boolean;
  /** `is_secure`: `https` for the URL's endpoint when true, else `http`. */
  readonly isSecure: boolean | undefined;
  /** `predefined_queues`, keyed by SQS queue name (after prefix and translation). */
  readonly predefinedQueues: ReadonlyMap<string, PredefinedQueue>;
  /** `sqs-creation-attributes`: extra CreateQueue attributes. */
  readonly creationAttributes: Readonly<Record<string, string>>;
  /** `queue_tags` (kombu ≥5.6): tags of created queues. */
  readonly queueTags: Readonly<Record<string, string>> | undefined;
  /** ReceiveMessage `MessageSystemAttributeNames` (`Channel.get_message_attributes`). */
  readonly systemAttributeNames: readonly string[];
  /** ReceiveMessage `MessageAttributeNames`. */
  readonly messageAttributeNames: readonly string[];
}

function configError(message: string): CeleryError {
  return new CeleryError('E_CONFIG', `broker_transport_options: ${message}`);
}

function optString(v: unknown, key: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw configError(`${key} must be a string`);
  return v;
}

function seconds(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) throw configError(`${key} must be a number of seconds`);
  return n;
}

function stringMap(v: unknown, key: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw configError(`${key} must be a dict`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = String(x);
  return out;
}

const RECEIVE_COUNT = 'ApproximateReceiveCount';

/** `Channel.get_message_attributes` (kombu 5.7; 5.2 always asks for ApproximateReceiveCount). */
function attributeNames(fetch: unknown): { system: string[]; attrs: string[] } {
  const withCount = (list: readonly unknown[]): string[] =>
    list.some((s) => typeof s === 'string' && s.toLowerCase() === 'all')
      ? ['ALL']
      : [...new Set([...list.map(String), RECEIVE_COUNT])].sort();
  const all = (list: readonly unknown[]): string[] =>
    list.some((s) => typeof s === 'string' && s.toLowerCase() === 'all')
      ? ['ALL']
      : [...new Set(list.map(String))].sort();
  if (Array.isArray(fetch)) return { system: withCount(fetch), attrs: [] };
  if (fetch !== null && typeof fetch === 'object') {
    const f = fetch as Record<string, unknown>;
    const sys = f.MessageSystemAttributeNames ?? [];
    const attrs = f.MessageAttributeNames;
    return {
      system: Array.isArray(sys) ? withCount(sys) : [RECEIVE_COUNT],
      attrs: Array.isArray(attrs) && attrs.length > 0 ? all(attrs) : [],
    };
  }
  return { system: [RECEIVE_COUNT], attrs: [] };
}

function predefined(v: unknown): Map<string, PredefinedQueue> {
  const out = new Map<string, PredefinedQueue>();
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v))
    throw configError('predefined_queues must be a dict');
  for (const [name, raw] of Object.entries(v as Record<string, unknown>)) {
    if (raw === null || typeof raw !== 'object') {
      throw configError(`predefined_queues.${name} must be a dict`);
    }
    const q = raw as Record<string, unknown>;
    const url = optString(q.url, `predefined_queues.${name}.url`);
    if (url === undefined) throw configError(`predefined_queues.${name}.url is required`);
    // `Channel._validate_predifined_queues`.
    if (url.endsWith('.fifo') && !name.endsWith('.fifo')) {
      throw new InvalidQueueException(`Queue with url '${url}' must have a name ending with .fifo`);
    }
    if (!url.endsWith('.fifo') && name.endsWith('.fifo')) {
      throw new InvalidQueueException(`Queue with name '${name}' is not a FIFO queue: '${url}'`);
    }
    const policy = new Map<number, number>();
    const bp = q.backoff_policy;
    if (bp !== undefined && bp !== null && typeof bp === 'object') {
      for (const [k, s] of Object.entries(bp)) policy.set(Number(k), Number(s));
    }
    out.set(name, {
      url,
      accessKeyId: optString(q.access_key_id, `predefined_queues.${name}.access_key_id`),
      secretAccessKey: optString(
        q.secret_access_key,
        `predefined_queues.${name}.secret_access_key`,
      ),
      sessionToken: optString(q.session_token, `predefined_queues.${name}.session_token`),
      region: optString(q.region, `predefined_queues.${name}.region`),
      backoffPolicy: policy,
      backoffTasks: Array.isArray(q.backoff_tasks) ? q.backoff_tasks.map(String) : [],
    });
  }
  return out;
}

/** Options kombu has that celery-wire does not implement: refused rather than ignored. */
const UNSUPPORTED = ['sts_role_arn', 'supports_fanout', 'predefined_exchanges'];

/** Read `broker_transport_options` for the SQS transport. */
export function parseSqsOptions(
  raw: Readonly<Record<string, unknown>>,
  line: SqsLine,
  env: Readonly<Record<string, string | undefined>> = {},
): SqsOptions {
  for (const k of UNSUPPORTED) {
    if (raw[k] !== undefined && raw[k] !== null && raw[k] !== false) {
      throw configError(`${k} is not supported by celery-wire's SQS transport (see docs/sqs.md)`);
    }
  }
  const vt = seconds(raw.visibility_timeout, 'visibility_timeout');
  // 5.2: `get('visibility_timeout') or 1800` (0 means the default); 5.7: int(float(v)), 0 allowed.
  const kombu = sqsProfileOf(line);
  const visibilityTimeout =
    vt === undefined || (kombu.zeroVisibilityIsDefault && vt === 0) ? 1800 : Math.trunc(vt);
  const fetch = attributeNames(kombu.messageAttributes ? raw.fetch_message_attributes : undefined);
  const b64 = raw.sqs_base64_encoding;
  return {
    line,
    kombu,
    // Python `or`: empty strings fall through too.
    region:
      [optString(raw.region, 'region'), env.AWS_DEFAULT_REGION, env.AWS_REGION].find(
        (r) => r !== undefined && r !== '',
      ) ?? 'us-east-1',
    queueNamePrefix: optString(raw.queue_name_prefix, 'queue_name_prefix') ?? '',
    visibilityTimeout,
    waitTimeSeconds: Math.trunc(seconds(raw.wait_time_seconds, 'wait_time_seconds') ?? 10),
    pollingInterval: seconds(raw.polling_interval, 'polling_interval') ?? 1,
    base64: b64 === undefined || b64 === null ? true : Boolean(b64),
    isSecure: typeof raw.is_secure === 'boolean' ? raw.is_secure : undefined,
    predefinedQueues: predefined(raw.predefined_queues),
    creationAttributes: stringMap(raw['sqs-creation-attributes'], 'sqs-creation-attributes'),
    queueTags:
      kombu.queueTags && raw.queue_tags !== undefined && raw.queue_tags !== null
        ? stringMap(raw.queue_tags, 'queue_tags')
        : undefined,
    systemAttributeNames: fetch.system,
    messageAttributeNames: fetch.attrs,
  };
}
