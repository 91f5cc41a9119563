import { InvalidTaskError, MessageTooLargeError, ProtocolError } from '../errors/errors';
import { decompress } from '../serialization/compression';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { loads } from '../serialization/registry';
import { detectTaskMessage } from './detect';
import type { MessageProperties, RawMessage } from './raw-message';
import { saferepr } from './saferepr';
import { v1BodySchema, v2BodySchema, v2HeadersSchema } from './schemas/task-schemas';
import { plainV2Body, plainV2Headers } from './schemas/fast-checks';
import { validateWire } from './schemas/validator';
import type { SignatureDict } from './signature';
import { parseIsoMicros, type EpochMicros } from './time';

/** The v2 `embed` mapping (`celery/app/amqp.py`, `as_task_v2`). */
export interface TaskEmbed {
  callbacks: SignatureDict[] | null;
  errbacks: SignatureDict[] | null;
  /** Remaining chain steps, last-to-run first. */
  chain: SignatureDict[] | null;
  chord: SignatureDict | null;
}

/** A task message normalised to protocol 2, as the worker strategy sees it. */
export interface DecodedTask {
  /** The wire protocol: 1 for a v1 body (also what a hybrid message is converted from). */
  protocol: 1 | 2;
  /** v2 headers carrying a v1-style body (`celery/worker/strategy.py`, `hybrid_to_proto2`). */
  hybrid: boolean;
  task: string;
  id: string;
  args: PyValue[];
  kwargs: Record<string, PyValue>;
  embed: TaskEmbed;
  /** v2 headers; for v1, the body dict + argsrepr/kwargsrepr/headers/group (`proto1_to_proto2`). */
  headers: Record<string, PyValue>;
  properties: MessageProperties;
  contentType: string;
  contentEncoding: string;
  /** v1 `utc` flag (true for v2). */
  utc: boolean;
  /** Parsed `eta`/`expires` (naive = UTC), µs since the epoch. */
  eta: EpochMicros | null;
  expires: EpochMicros | null;
}

/** Size caps on an incoming message (`messageMaxSize`, `messageMaxDecompressedSize`). */
export interface BodyLimits {
  /** Largest accepted body as received (bytes); default: no cap. */
  maxMessageSize?: number;
  /** Largest decompressed body (bytes); default `DEFAULT_MAX_DECOMPRESSED_SIZE` (256 MiB). */
  maxDecompressedSize?: number;
}

/** Options of {@link decodeTaskMessage}. */
export interface DecodeTaskOptions extends BodyLimits {
  /** Accepted serializers (names or MIME types), default `['json']`. */
  accept?: readonly string[];
}

const NO_OPTIONS = {} as const;

/**
 * The payload of a message (`kombu/message.py`, `Message.decode`: decompress per the
 * `compression` header, then deserialize), within the size caps: a larger body throws
 * {@link MessageTooLargeError} before anything is allocated for it, and decompression stops at
 * its cap. The one body reader of the worker, for v1, v2 and hybrid messages alike.
 */
export function loadMessageBody(raw: RawMessage, opts: DecodeTaskOptions = NO_OPTIONS): PyValue {
  let body = raw.body;
  const max = opts.maxMessageSize;
  if (max !== undefined && body.byteLength > max) {
    throw new MessageTooLargeError('message', max, { size: body.byteLength });
  }
  const compression = raw.headers.compression;
  if (typeof compression === 'string' && compression !== '') {
    const cap = opts.maxDecompressedSize;
    body = decompress(body, compression, cap === undefined ? NO_OPTIONS : { maxOutputLength: cap });
  }
  return loads(
    body,
    raw.contentType,
    raw.contentEncoding,
    opts.accept === undefined ? NO_OPTIONS : { accept: opts.accept },
  );
}

function signatureList(v: PyValue | undefined): SignatureDict[] | null {
  return Array.isArray(v) ? [...(v as SignatureDict[])] : null;
}

function embedOf(e: PyValue | undefined): TaskEmbed {
  const d = isPyDict(e) ? e : {};
  const list = signatureList;
  return {
    callbacks: list(d.callbacks),
    errbacks: list(d.errbacks),
    chain: list(d.chain),
    chord: isPyDict(d.chord) ? d.chord : null,
  };
}

function timeOf(v: PyValue | undefined, path: string): EpochMicros | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw new InvalidTaskError('expected an ISO-8601 string', { path });
  return parseIsoMicros(v, path);
}

function finish(
  raw: RawMessage,
  protocol: 1 | 2,
  hybrid: boolean,
  args: readonly PyValue[],
  kwargs: Record<string, PyValue>,
  embed: TaskEmbed,
  headers: Record<string, PyValue>,
  utc: boolean,
): DecodedTask {
  // ajv only when the hand-written sufficient check is unsure (it then reports the error).
  if (!plainV2Headers(headers)) validateWire(v2HeadersSchema, headers, 'task headers', '/headers');
  return {
    protocol,
    hybrid,
    task: headers.task as string,
    id: headers.id as string,
    args: [...args],
    kwargs,
    embed,
    headers,
    properties: raw.properties,
    contentType: raw.contentType,
    contentEncoding: raw.contentEncoding,
    utc,
    eta: timeOf(headers.eta, '/headers/eta'),
    expires: timeOf(headers.expires, '/headers/expires'),
  };
}

/** `hybrid_to_proto2`: body fields become headers, the real headers are laid over them. */
function fromHybrid(raw: RawMessage, body: Record<string, PyValue>): DecodedTask {
  validateWire(v1BodySchema, { task: '', id: '', ...body }, 'hybrid task body', '/body', true);
  const headers: Record<string, PyValue> = {
    lang: body.lang ?? null,
    task: body.task ?? null,
    id: body.id ?? null,
    root_id: body.root_id ?? null,
    parent_id: body.parent_id ?? null,
    group: body.group ?? null,
    meth: body.meth ?? null,
    shadow: body.shadow ?? null,
    eta: body.eta ?? null,
    expires: body.expires ?? null,
    retries: body.retries ?? 0,
    timelimit: body.timelimit ?? [null, null],
    argsrepr: body.argsrepr ?? null,
    kwargsrepr: body.kwargsrepr ?? null,
    origin: body.origin ?? null,
    ...raw.headers,
  };
  const embed: TaskEmbed = embedOf({ ...body, chain: null });
  const args = (body.args ?? []) as readonly PyValue[];
  const kwargs = (body.kwargs ?? {}) as Record<string, PyValue>;
  return finish(raw, 2, true, args, kwargs, embed, headers, body.utc !== false);
}

/** `proto1_to_proto2`: the v1 body becomes the header dict, reprs computed without a size cap. */
function fromV1(raw: RawMessage, body: Record<string, PyValue>): DecodedTask {
  validateWire(v1BodySchema, body, 'v1 task body', '/body', true);
  const args = (body.args ?? []) as readonly PyValue[];
  const kwargs = (body.kwargs ?? {}) as Record<string, PyValue>;
  const headers: Record<string, PyValue> = {
    ...body,
    argsrepr: saferepr(args),
    kwargsrepr: saferepr(kwargs),
    headers: raw.headers,
  };
  if ('taskset' in body) headers.group = body.taskset ?? null;
  return finish(
    raw,
    1,
    false,
    args,
    kwargs,
    embedOf({ ...body, chain: null }),
    headers,
    body.utc !== false,
  );
}

/**
 * Decode a task message of any protocol as a Celery worker does
 * (`celery/worker/consumer/consumer.py`, `on_task_received`; `celery/worker/strategy.py`):
 * `headers.task` present → v2 (or hybrid when the body is a dict with `args`); otherwise the body
 * must be a v1 dict with `task`. Malformed input throws {@link ProtocolError} or
 * {@link InvalidTaskError} with the offending path; serializer failures keep their own types
 * (`DecodeError`, `ContentDisallowedError`).
 */
export function decodeTaskMessage(raw: RawMessage, opts: DecodeTaskOptions = {}): DecodedTask {
  if (!isPyDict(raw.headers))
    throw new ProtocolError('headers are not a mapping', { path: '/headers' });
  const payload = loadMessageBody(raw, opts);
  const kind = detectTaskMessage(raw.headers, payload);
  if (kind === 'hybrid' && isPyDict(payload)) return fromHybrid(raw, payload);
  if (kind === 'v2') {
    if (!plainV2Body(payload)) validateWire(v2BodySchema, payload, 'task body', '/body', true);
    const [args, kwargs, embed] = payload as [PyValue[], Record<string, PyValue>, PyValue];
    return finish(raw, 2, false, args, kwargs, embedOf(embed), { ...raw.headers }, true);
  }
  if (kind === 'v1' && isPyDict(payload)) return fromV1(raw, payload);
  throw new ProtocolError('unknown message: no task name in headers or body', {
    path: '/headers/task',
  });
}
