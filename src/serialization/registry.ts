/**
 * kombu's serializer registry (`kombu/serialization.py, SerializerRegistry`): names ⇄ MIME types,
 * the accept list, trusted raw content types and content-encoding handling.
 */
import {
  ContentDisallowedError,
  DecodeError,
  EncodeError,
  SerializerNotInstalledError,
} from '../errors/errors';
import type { JsonDialect } from './json-envelope';
import { packPyMsgpack, unpackPyMsgpack } from './msgpack';
import { pyJsonDumps, pyJsonLoads } from './python-json';
import type { PyValue } from './py-values';
import { dumpPyYaml, loadPyYaml } from './yaml';

export type { JsonDialect } from './json-envelope';

/** A serialized body and the properties that describe it on the wire. */
export interface EncodedBody {
  body: Uint8Array;
  contentType: string;
  contentEncoding: string;
}
/** Options for {@link dumps}. */
export interface DumpsOptions {
  jsonDialect?: JsonDialect;
}
/** Options for {@link loads}. */
export interface LoadsOptions {
  /** Names (`json`) or MIME types; default `['json']` (Celery's `accept_content`). */
  accept?: readonly string[];
}

/**
 * A serializer registered at run time (`kombu.serialization.register`), e.g. Celery's `auth`
 * (`celery/security/serialization.py`, `register_auth`). Its errors on decode become
 * {@link DecodeError}s, as kombu's `_reraise_errors(DecodeError)` makes them.
 */
export interface RegisteredCodec {
  contentType: string;
  contentEncoding: string;
  encode(value: PyValue, opts?: DumpsOptions): Uint8Array;
  decode(body: Uint8Array): PyValue;
}

const BUILTIN: Readonly<Record<string, readonly [string, string]>> = {
  json: ['application/json', 'utf-8'],
  pickle: ['application/x-python-serialize', 'binary'],
  yaml: ['application/x-yaml', 'utf-8'],
  msgpack: ['application/x-msgpack', 'binary'],
};
const serializers: Record<string, readonly [string, string]> = { ...BUILTIN };
const typeToName: Record<string, string> = Object.fromEntries(
  Object.entries(BUILTIN).map(([name, [type]]) => [type, name]),
);
const codecs = new Map<string, RegisteredCodec>();

/**
 * kombu/serialization.py, register_*: name → [content_type, content_encoding]; registered
 * codecs ({@link registerSerializer}) appear here too.
 */
export const SERIALIZERS: Readonly<Record<string, readonly [string, string]>> = serializers;
const TYPE_TO_NAME: Readonly<Record<string, string>> = typeToName;

/**
 * `registry.register(name, encoder, decoder, content_type, content_encoding)`: process-wide, as
 * kombu's registry is. Registering a built-in name is refused.
 */
export function registerSerializer(name: string, codec: RegisteredCodec): void {
  if (name in BUILTIN) throw new EncodeError(`cannot replace the built-in serializer ${name}`);
  unregisterSerializer(name);
  codecs.set(name, codec);
  serializers[name] = [codec.contentType, codec.contentEncoding];
  typeToName[codec.contentType] = name;
  acceptCache = new WeakMap();
}

/** `registry.unregister(name)`; built-ins stay. */
export function unregisterSerializer(name: string): void {
  const codec = codecs.get(name);
  if (codec === undefined) return;
  codecs.delete(name);
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a table keyed by name
  delete serializers[name];
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a table keyed by type
  if (typeToName[codec.contentType] === name) delete typeToName[codec.contentType];
  acceptCache = new WeakMap();
}
/** kombu/serialization.py, TRUSTED_CONTENT: always decoded, whatever the accept list says. */
export const TRUSTED_CONTENT: ReadonlySet<string> = new Set([
  'application/data',
  'application/text',
]);
/** kombu/serialization.py, SKIP_DECODE: encodings whose bodies stay bytes. */
const SKIP_DECODE: ReadonlySet<string> = new Set(['binary', 'ascii-8bit']);

/**
 * UTF-8 bytes of a string, as `TextEncoder.encode` gives them (lone surrogates become U+FFFD) but
 * through Buffer's pooled allocator, several times faster for message-sized text.
 */
function utf8Bytes(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * kombu/serialization.py, prepare_accept_content: names become MIME types, anything containing
 * `/` is kept; an unknown name raises SerializerNotInstalled.
 */
export function prepareAcceptContent(accept: readonly string[]): ReadonlySet<string> {
  // Accept lists are long-lived config arrays: resolve each one once, not on every message.
  const cached = acceptCache.get(accept);
  if (cached !== undefined) return cached;
  const resolved = new Set(
    accept.map((n) => {
      if (n.includes('/')) return n;
      const entry = SERIALIZERS[n];
      if (entry === undefined) {
        throw new SerializerNotInstalledError(`No encoder/decoder installed for ${n}`);
      }
      return entry[0];
    }),
  );
  acceptCache.set(accept, resolved);
  return resolved;
}

let acceptCache = new WeakMap<readonly string[], ReadonlySet<string>>();

/** Celery's `accept_content` default. */
const DEFAULT_ACCEPT: readonly string[] = ['json'];

function refusePickle(): never {
  // We never (un)pickle: it is arbitrary code execution, and has no JavaScript meaning.
  throw new ContentDisallowedError('application/x-python-serialize');
}

/**
 * `kombu.serialization.dumps(value, serializer)`; `serializer` is a name, a MIME type, or `raw`
 * (bytes → `application/data`/`binary`, text → `application/data`/`utf-8`).
 */
export function dumps(value: PyValue, serializer: string, opts?: DumpsOptions): EncodedBody {
  if (serializer === 'raw' || serializer === 'application/data') {
    if (typeof value === 'string') {
      return {
        body: utf8Bytes(value),
        contentType: 'application/data',
        contentEncoding: 'utf-8',
      };
    }
    if (value instanceof Uint8Array) {
      return { body: value, contentType: 'application/data', contentEncoding: 'binary' };
    }
    throw new EncodeError('raw serializer needs bytes or str');
  }
  const name = SERIALIZERS[serializer] ? serializer : TYPE_TO_NAME[serializer];
  const entry = name === undefined ? undefined : SERIALIZERS[name];
  if (name === undefined || entry === undefined) {
    throw new SerializerNotInstalledError(`No encoder installed for ${serializer}`);
  }
  const [contentType, contentEncoding] = entry;
  const codec = codecs.get(name);
  if (codec !== undefined) return { body: codec.encode(value, opts), contentType, contentEncoding };
  let body: Uint8Array;
  switch (name) {
    case 'json':
      body = utf8Bytes(pyJsonDumps(value, { dialect: opts?.jsonDialect ?? 'kombu-5.3' }));
      break;
    case 'msgpack':
      body = packPyMsgpack(value);
      break;
    case 'yaml':
      body = utf8Bytes(dumpPyYaml(value));
      break;
    default:
      return refusePickle();
  }
  return { body, contentType, contentEncoding };
}

function asText(body: Uint8Array, encoding: string): string {
  if (encoding !== 'utf-8' && encoding !== 'utf8') {
    throw new SerializerNotInstalledError(`content encoding ${encoding} is not supported`);
  }
  try {
    return strictUtf8.decode(body);
  } catch (e) {
    throw new DecodeError(`body is not valid ${encoding}`, { cause: e });
  }
}

/**
 * `kombu.serialization.loads(body, content_type, content_encoding, accept=…)`. A missing content
 * type is `application/data`, a missing encoding `utf-8`; trusted and unknown content types come
 * back as text (or bytes for `binary`), as kombu returns them.
 */
export function loads(
  body: Uint8Array,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  opts?: LoadsOptions,
): PyValue {
  const type = contentType !== undefined && contentType !== '' ? contentType : 'application/data';
  const accept = prepareAcceptContent(opts?.accept ?? DEFAULT_ACCEPT);
  if (!TRUSTED_CONTENT.has(type) && !accept.has(type)) throw new ContentDisallowedError(type);
  const encoding = (
    contentEncoding !== undefined && contentEncoding !== '' ? contentEncoding : 'utf-8'
  ).toLowerCase();
  // An empty body is returned as-is, before any decoder runs (`if data:`).
  if (body.length === 0) return body;
  const name: string | undefined = TYPE_TO_NAME[type];
  const codec = name === undefined ? undefined : codecs.get(name);
  if (codec !== undefined) {
    try {
      return codec.decode(body);
    } catch (e) {
      if (e instanceof DecodeError) throw e;
      throw new DecodeError(e instanceof Error ? e.message : String(e), { cause: e });
    }
  }
  switch (name) {
    case 'json':
      return pyJsonLoads(asText(body, 'utf-8'));
    case 'yaml':
      return loadPyYaml(asText(body, 'utf-8'));
    case 'msgpack':
      return unpackPyMsgpack(body);
    case 'pickle':
      return refusePickle();
    case undefined:
    default:
      return SKIP_DECODE.has(encoding) ? body : asText(body, encoding);
  }
}
