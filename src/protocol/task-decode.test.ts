import {
  ContentDisallowedError,
  DecodeError,
  InvalidTaskError,
  MessageTooLargeError,
  ProtocolError,
} from '../errors/errors';
import { compress } from '../serialization/compression';
import { pyJsonDumps } from '../serialization/python-json';
import type { PyValue } from '../serialization/py-values';
import { listFixtures, loadFixture } from '../../test/support/fixtures';
import type { RawMessage } from './raw-message';
import { decodeRedisEnvelope, encodeRedisEnvelope } from './redis-envelope';
import { loadMessageBody } from './task-decode';
import { decodeTaskMessage } from './task-message';

function raw(
  body: PyValue,
  headers: Record<string, PyValue> = {},
  contentType = 'application/json',
): RawMessage {
  return {
    body: new Uint8Array(Buffer.from(pyJsonDumps(body))),
    contentType,
    contentEncoding: 'utf-8',
    headers,
    properties: { correlation_id: 'x' },
  };
}

function errorOf(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

const EMBED = { callbacks: null, errbacks: null, chain: null, chord: null };

describe('decodeTaskMessage', () => {
  it.each(
    listFixtures('captured').map(({ file, line }) => [file, loadFixture(file, line)] as const),
  )('decodes live capture %s and re-encodes the envelope', (_f, fx) => {
    const entry = fx.expected.entry as string;
    const env = decodeRedisEnvelope(entry);
    const d = decodeTaskMessage(env.message, { accept: ['json', 'msgpack', 'yaml'] });
    expect(d.task).toBe(fx.input.task);
    expect(d.id).toBe(fx.input.task_id);
    expect(d.args).toEqual(fx.input.args);
    expect(encodeRedisEnvelope(env.message, env.deliveryInfo, env.deliveryTag)).toBe(entry);
  });

  it('normalises v1 like proto1_to_proto2 (untruncated list reprs, taskset → group)', () => {
    const body = {
      task: 't.add',
      id: 'v1',
      args: [1, 2],
      kwargs: { a: 'x' },
      group: null,
      retries: 0,
      eta: '2026-01-02T03:04:05Z',
      expires: null,
      utc: true,
      callbacks: null,
      errbacks: null,
      timelimit: [9, null],
      taskset: 'G',
      chord: null,
    };
    const d = decodeTaskMessage(raw(body));
    expect(d.protocol).toBe(1);
    expect(d.headers.group).toBe('G');
    expect(d.headers.argsrepr).toBe('[1, 2]');
    expect(d.headers.kwargsrepr).toBe("{'a': 'x'}");
    expect(Object.keys(d.headers).slice(-3)).toEqual(['argsrepr', 'kwargsrepr', 'headers']);
    expect(d.embed).toEqual(EMBED);
    expect(d.eta).toBe(Date.UTC(2026, 0, 2, 3, 4, 5) * 1000);
  });

  it('converts hybrid messages like hybrid_to_proto2 (headers win over body fields)', () => {
    const body = { task: 'old', id: 'h1', args: [1], kwargs: {}, callbacks: [], retries: 3 };
    const d = decodeTaskMessage(raw(body, { task: 't.new', id: 'h1', retries: 0 }));
    expect(d.hybrid).toBe(true);
    expect(d.task).toBe('t.new');
    expect(d.headers.retries).toBe(0);
    expect(d.headers.meth).toBeNull();
    expect(d.args).toEqual([1]);
    expect(d.embed.chain).toBeNull();
    expect(d.embed.callbacks).toEqual([]);
  });

  it.each([
    ['v2 body not a 3-list', raw([[1], {}]), { task: 't', id: '1' }, '/body'],
    ['kwargs not a mapping', raw([[1], [2], EMBED]), { task: 't', id: '1' }, '/body/1'],
    ['args not a list', raw(['x', {}, EMBED]), { task: 't', id: '1' }, '/body/0'],
    [
      'bad callback signature',
      raw([[], {}, { ...EMBED, callbacks: [{ args: [] }] }]),
      { task: 't', id: '1' },
      '/body/2',
    ],
    [
      'timelimit not a pair',
      raw([[], {}, EMBED]),
      { task: 't', id: '1', timelimit: 'x' },
      '/headers/timelimit',
    ],
    ['id missing', raw([[], {}, EMBED]), { task: 't' }, '/headers'],
    ['garbage eta', raw([[], {}, EMBED]), { task: 't', id: '1', eta: 'soon' }, '/headers/eta'],
    [
      'v1 kwargs not a mapping',
      raw({ task: 't', id: '1', args: [], kwargs: [] }),
      {},
      '/body/kwargs',
    ],
  ])('reports %s with its path', (_what, msg, headers, path) => {
    const err = errorOf(() => decodeTaskMessage({ ...msg, headers: headers }));
    expect(err.path?.startsWith(path)).toBe(true);
  });

  it('uses InvalidTaskError for unusable fields and ProtocolError for unknown messages', () => {
    expect(() =>
      decodeTaskMessage(raw([[], {}, EMBED], { task: 't', id: '1', eta: 'soon' })),
    ).toThrow(InvalidTaskError);
    const e = errorOf(() => decodeTaskMessage(raw({ hello: 1 })));
    expect(e).not.toBeInstanceOf(InvalidTaskError);
    expect(e.path).toBe('/headers/task');
  });

  it('refuses content types outside accept', () => {
    const m = raw([[], {}, EMBED], { task: 't', id: '1' }, 'application/x-yaml');
    expect(() => decodeTaskMessage(m)).toThrow(ContentDisallowedError);
  });
});

describe('size caps (messageMaxSize, messageMaxDecompressedSize)', () => {
  const v2 = (body: Uint8Array, extra: Record<string, PyValue> = {}): RawMessage => ({
    body,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { lang: 'py', task: 't', id: 'i', ...extra },
    properties: { correlation_id: 'i' },
  });
  // `[["xxxx…"], {}, {}]`, 2 MB of text that zlib shrinks to a few KB.
  const text = Buffer.from(pyJsonDumps([['x'.repeat(2_000_000)], {}, {}]));
  const caught = (f: () => unknown): unknown => {
    try {
      f();
    } catch (e) {
      return e;
    }
    throw new Error('did not throw');
  };

  it('refuses a decompression bomb with MessageTooLargeError, not a DecodeError', () => {
    const zipped = compress(text, 'zlib').body;
    expect(zipped.byteLength).toBeLessThan(20_000);
    const m = v2(zipped, { compression: 'application/x-gzip' });
    const e = caught(() => decodeTaskMessage(m, { maxDecompressedSize: 1_000_000 }));
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect(e).not.toBeInstanceOf(DecodeError);
    expect((e as MessageTooLargeError).what).toBe('decompressed body');
    expect(decodeTaskMessage(m, { maxDecompressedSize: 4_000_000 }).args).toHaveLength(1);
  });

  it('refuses a body over maxMessageSize before decoding it', () => {
    const e = caught(() => decodeTaskMessage(v2(text), { maxMessageSize: 1_000_000 }));
    expect(e).toBeInstanceOf(MessageTooLargeError);
    expect((e as MessageTooLargeError).message).toBe(
      `message too large: ${String(text.byteLength)} bytes, over the limit of 1000000 bytes`,
    );
    expect(loadMessageBody(v2(text), { maxMessageSize: text.byteLength })).toHaveLength(3);
  });
});
