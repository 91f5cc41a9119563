import { isCeleryError, ProtocolError } from '../errors/errors';
import { decodeRedisEnvelope } from '../protocol/redis-envelope';
import type { RawMessage } from '../protocol/raw-message';
import { decodeTaskMessage } from '../protocol/task-message';
import { pyJsonDumps, pyJsonLoads } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { CliIo } from './io';

/** Properties without absent (undefined) keys, as a plain Python dict. */
function definedOnly(
  props: Readonly<Record<string, PyValue | undefined>>,
): Record<string, PyValue> {
  const out: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(props)) if (v !== undefined) out[k] = v;
  return out;
}

/** Serializers `decode` will open: everything kombu can decode safely (never pickle). */
const DECODE_ACCEPT = ['json', 'msgpack', 'yaml', 'application/data', 'application/text'];

function str(v: PyValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The AMQP form a user can paste: `{"properties": {...}, "headers": {...}, "body_base64": "..."}`.
 * Properties may use kombu's snake_case names or amqplib's camelCase ones.
 */
function fromAmqpJson(doc: Record<string, PyValue>): RawMessage {
  const b64 = doc.body_base64;
  if (typeof b64 !== 'string') {
    throw new ProtocolError('AMQP input needs a string "body_base64"', { path: '/body_base64' });
  }
  const props = doc.properties ?? {};
  if (!isPyDict(props))
    throw new ProtocolError('"properties" must be an object', { path: '/properties' });
  const headers = doc.headers ?? props.headers ?? {};
  if (!isPyDict(headers))
    throw new ProtocolError('"headers" must be an object', { path: '/headers' });
  const properties: Record<string, PyValue> = {};
  const rename: Record<string, string> = {
    correlationId: 'correlation_id',
    replyTo: 'reply_to',
    deliveryMode: 'delivery_mode',
  };
  for (const [k, v] of Object.entries(props)) {
    if (
      ['headers', 'content_type', 'contentType', 'content_encoding', 'contentEncoding'].includes(k)
    ) {
      continue;
    }
    properties[rename[k] ?? k] = v;
  }
  return {
    body: Buffer.from(b64, 'base64'),
    contentType:
      str(props.content_type) ??
      str(props.contentType) ??
      str(doc.content_type) ??
      'application/data',
    contentEncoding:
      str(props.content_encoding) ??
      str(props.contentEncoding) ??
      str(doc.content_encoding) ??
      'utf-8',
    headers,
    properties,
  };
}

/**
 * Decode one raw message (a kombu Redis envelope as stored in the list, or the AMQP JSON form)
 * into the document `celery-wire decode` prints. Values are rendered as Python would decode
 * them: exact integers, `1.0` floats, and kombu's `__type__` form for bytes/datetimes/decimals.
 */
export function decodeToDocument(text: string): string {
  const parsed = pyJsonLoads(text.trim());
  if (!isPyDict(parsed)) throw new ProtocolError('input must be a JSON object', { path: '' });
  let raw: RawMessage;
  let transport: Record<string, PyValue> = {};
  if ('body_base64' in parsed) {
    raw = fromAmqpJson(parsed);
  } else {
    const env = decodeRedisEnvelope(text.trim());
    raw = env.message;
    transport = {
      delivery_info: { ...env.deliveryInfo },
      delivery_tag: env.deliveryTag,
      body_encoding: env.bodyEncoding,
    };
  }
  const task = decodeTaskMessage(raw, { accept: DECODE_ACCEPT });
  const doc: Record<string, PyValue> = {
    protocol: task.protocol,
    task: task.task,
    id: task.id,
    args: task.args,
    kwargs: task.kwargs,
    embed: { ...task.embed },
    headers: task.headers,
    properties: definedOnly(raw.properties),
    content_type: raw.contentType,
    content_encoding: raw.contentEncoding,
    compression: str(raw.headers.compression) ?? null,
    ...transport,
  };
  return pyJsonDumps(doc);
}

export const DECODE_USAGE = `usage: celery-wire decode [FILE|-]

Print what is really in one raw Celery message, as JSON: task, id, args, kwargs, embed, headers,
properties, content type/encoding, compression and the transport fields.

  FILE        a Redis list entry (kombu's JSON envelope) or an AMQP message as
              {"properties": {...}, "headers": {...}, "body_base64": "..."}
  -           read the message from stdin (also the default without FILE)
  -h, --help  show this help

Exit status: 0 decoded, 2 unreadable or invalid input (one line on stderr).
`;

/** `celery-wire decode [FILE|-]`: exit 0 on success, 2 with one line on stderr on bad input. */
export async function decodeCommand(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(DECODE_USAGE);
    return 0;
  }
  const file = argv[0];
  if (argv.length > 1) {
    io.stderr('celery-wire decode: expected at most one FILE argument (or - for stdin)\n');
    return 2;
  }
  let text: string;
  try {
    text = await io.readInput(file === '-' ? undefined : file);
  } catch (e) {
    io.stderr(`celery-wire decode: cannot read ${file ?? 'stdin'}: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    io.stdout(`${decodeToDocument(text)}\n`);
    return 0;
  } catch (e) {
    const name = isCeleryError(e) ? e.name : 'Error';
    const where = e instanceof ProtocolError && e.path ? ` (at ${e.path})` : '';
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    io.stderr(`celery-wire decode: ${name}: ${msg}${where}\n`);
    return 2;
  }
}
