import { BackendError, DecodeError, isCeleryError, MessageTooLargeError } from '../errors/errors';
import { getProfile, type CeleryProfileName } from '../protocol/profiles';
import { parseResultMeta } from '../protocol/result-meta';
import { decompress } from '../serialization/compression';
import type { JsonDialect } from '../serialization/registry';
import { dumps, loads, SERIALIZERS } from '../serialization/registry';
import type { PyValue } from '../serialization/py-values';
import type { TaskMeta } from './backend';

/**
 * `celery/backends/base.py`, `COMPRESSED_PAYLOAD_MAGIC` (Celery 5.7.0, `result_compression`):
 * `\0celery-compressed\0<mime>\0<compressed body>`. Readers decompress when the marker is present,
 * whatever their own setting (`decompress_payload`).
 */
const MAGIC = new TextEncoder().encode('\x00celery-compressed\x00');

/** kombu JSON dialect of a Celery line: `__type__` envelopes since kombu 5.3 only. */
export function jsonDialectOf(profile: CeleryProfileName | undefined): JsonDialect {
  return getProfile(profile).jsonDialect;
}

/** Serializer name/MIME → `[contentType, contentEncoding]`, as `Backend.content_type` fixes them. */
export function contentOf(serializer: string): readonly [string, string] {
  const byName = SERIALIZERS[serializer];
  if (byName) return byName;
  const byType = Object.values(SERIALIZERS).find(([t]) => t === serializer);
  if (byType) return byType;
  throw new BackendError(`unknown result_serializer ${serializer}`);
}

/** `Backend.encode`: the document serialized with `result_serializer`, no envelope. */
export function encodeDocument(
  doc: PyValue,
  serializer: string,
  profile: CeleryProfileName | undefined,
): Uint8Array {
  return dumps(doc, serializer, { jsonDialect: jsonDialectOf(profile) }).body;
}

function startsWith(body: Uint8Array, prefix: Uint8Array): boolean {
  if (body.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (body[i] !== prefix[i]) return false;
  return true;
}

/** Size caps on a result document as read (`resultMaxSize`, `messageMaxDecompressedSize`). */
export interface ResultLimits {
  /** Largest stored document in bytes; default: no cap. */
  maxResultSize?: number;
  /** Largest decompressed document (`result_compression`); default 256 MiB. */
  maxDecompressedSize?: number;
}

const NO_LIMITS: ResultLimits = {};

/** `decompress_payload`: strip the 5.7 compression marker if present. */
export function maybeDecompress(body: Uint8Array, limits: ResultLimits = NO_LIMITS): Uint8Array {
  if (!startsWith(body, MAGIC)) return body;
  const rest = body.subarray(MAGIC.length);
  const nul = rest.indexOf(0);
  if (nul < 0) throw new BackendError('truncated compressed result payload');
  const mime = new TextDecoder().decode(rest.subarray(0, nul));
  const cap = limits.maxDecompressedSize ?? limits.maxResultSize;
  return decompress(
    rest.subarray(nul + 1),
    mime,
    cap === undefined ? {} : { maxOutputLength: cap },
  );
}

/** Throw {@link MessageTooLargeError} for a document over `maxResultSize`. */
export function checkResultSize(body: Uint8Array, limits: ResultLimits = NO_LIMITS): void {
  const max = limits.maxResultSize;
  if (max !== undefined && body.byteLength > max) {
    throw new MessageTooLargeError('result', max, { size: body.byteLength });
  }
}

/**
 * `Backend.decode`: the content type is the configured serializer's (nothing on the wire says
 * otherwise), checked against `result_accept_content`; documents over the caps are refused.
 */
export function decodeDocument(
  body: Uint8Array,
  serializer: string,
  accept: readonly string[],
  limits: ResultLimits = NO_LIMITS,
): PyValue {
  checkResultSize(body, limits);
  const [contentType, contentEncoding] = contentOf(serializer);
  return loads(maybeDecompress(body, limits), contentType, contentEncoding, { accept });
}

const PASS_THROUGH: ReadonlySet<string> = new Set([
  'E_CONTENT_DISALLOWED',
  'E_TOO_LARGE',
  'E_SECURITY',
]);

/**
 * Decode + `parseResultMeta`, wrapping failures into `BackendError` with the cause; disallowed
 * content, {@link MessageTooLargeError} and a signed (`auth`) result that fails verification
 * (`SecurityError`, as Celery raises it from `SecureSerializer.deserialize`) keep their types.
 */
export function decodeMeta(
  body: Uint8Array,
  serializer: string,
  accept: readonly string[],
  limits: ResultLimits = NO_LIMITS,
): TaskMeta {
  try {
    return parseResultMeta(decodeDocument(body, serializer, accept, limits));
  } catch (e) {
    if (isCeleryError(e) && PASS_THROUGH.has(e.code)) throw e;
    // The registry reports a failing `auth` decode as a DecodeError (kombu's `_reraise_errors`);
    // the reason a reader needs is the SecurityError inside it.
    if (e instanceof DecodeError && isCeleryError(e.cause) && e.cause.code === 'E_SECURITY')
      throw e.cause;
    throw new BackendError('cannot decode result document', { cause: e });
  }
}

/** What `_get_task_meta_for` returns for a missing key. */
export function pendingMeta(taskId: string): TaskMeta {
  return {
    taskId,
    status: 'PENDING',
    result: null,
    traceback: null,
    children: [],
    dateDone: null,
    error: null,
    raw: { status: 'PENDING', result: null },
  };
}
