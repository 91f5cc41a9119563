import { ContentDisallowedError, DecodeError, SerializerNotInstalledError } from '../errors/errors';
import { dumps, loads, prepareAcceptContent } from './registry';
import { PyDateTime } from './py-values';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('registry.dumps', () => {
  it('encodes json by name or MIME type with kombu content properties', () => {
    for (const s of ['json', 'application/json']) {
      const out = dumps([[1, 2], {}, { callbacks: null }], s);
      expect(out.contentType).toBe('application/json');
      expect(out.contentEncoding).toBe('utf-8');
      expect(text(out.body)).toBe('[[1, 2], {}, {"callbacks": null}]');
    }
  });
  it('honours the json dialect', () => {
    const v = new PyDateTime('2024-01-02T03:04:05+00:00');
    expect(text(dumps(v, 'json', { jsonDialect: 'kombu-legacy' }).body)).toBe(
      '"2024-01-02T03:04:05Z"',
    );
  });
  it('has msgpack and yaml with their MIME types and encodings', () => {
    expect(dumps(1, 'msgpack')).toMatchObject({
      contentType: 'application/x-msgpack',
      contentEncoding: 'binary',
    });
    expect(dumps(1, 'yaml')).toMatchObject({
      contentType: 'application/x-yaml',
      contentEncoding: 'utf-8',
    });
  });
  it('passes raw bytes and text through as application/data', () => {
    expect(dumps(Buffer.from([1]), 'raw')).toMatchObject({
      contentType: 'application/data',
      contentEncoding: 'binary',
    });
    expect(dumps('x', 'raw')).toMatchObject({
      contentType: 'application/data',
      contentEncoding: 'utf-8',
    });
  });
  it('never pickles and knows no other names', () => {
    expect(() => dumps(1, 'pickle')).toThrow(ContentDisallowedError);
    expect(() => dumps(1, 'bson')).toThrow(SerializerNotInstalledError);
  });
});

describe('registry.loads', () => {
  const json = Buffer.from('{"a": 1.5}');
  it('decodes accepted content', () => {
    expect(loads(json, 'application/json', 'utf-8')).toEqual({ a: 1.5 });
    expect(
      loads(dumps({ a: 1 }, 'msgpack').body, 'application/x-msgpack', 'binary', {
        accept: ['msgpack'],
      }),
    ).toEqual({ a: 1 });
    expect(
      loads(Buffer.from('a: 1\n'), 'application/x-yaml', 'utf-8', {
        accept: ['application/x-yaml'],
      }),
    ).toEqual({ a: 1 });
  });
  it('refuses content outside the accept list (default: json only)', () => {
    expect(() => loads(Buffer.from('a: 1'), 'application/x-yaml', 'utf-8')).toThrow(
      ContentDisallowedError,
    );
    expect(() => loads(json, 'application/json', 'utf-8', { accept: ['msgpack'] })).toThrow(
      ContentDisallowedError,
    );
    expect(() =>
      loads(Buffer.from([0x80]), 'application/x-python-serialize', 'binary', {
        accept: ['pickle'],
      }),
    ).toThrow(ContentDisallowedError);
  });
  it('lets trusted content through and treats a missing content type as application/data', () => {
    expect(loads(Buffer.from('hi'), undefined, undefined, { accept: [] })).toBe('hi');
    expect(loads(Buffer.from('hi'), 'application/text', 'utf-8', { accept: ['json'] })).toBe('hi');
    expect(loads(Buffer.from([1, 2]), 'application/data', 'binary')).toEqual(Buffer.from([1, 2]));
  });
  it('returns unknown-but-accepted content as text, or bytes for binary', () => {
    expect(loads(Buffer.from('hi'), 'text/plain', 'utf-8', { accept: ['text/plain'] })).toBe('hi');
    expect(loads(Buffer.from('hi'), 'text/plain', 'binary', { accept: ['text/plain'] })).toEqual(
      Buffer.from('hi'),
    );
  });
  it('maps names like prepare_accept_content and fails on unknown names', () => {
    expect([...prepareAcceptContent(['json', 'msgpack', 'x/y'])]).toEqual([
      'application/json',
      'application/x-msgpack',
      'x/y',
    ]);
    expect(() => prepareAcceptContent(['nope'])).toThrow(SerializerNotInstalledError);
  });
  it('reports invalid UTF-8 and bad JSON as DecodeError', () => {
    expect(() => loads(Buffer.from([0xff]), 'application/json', 'utf-8')).toThrow(DecodeError);
    expect(() => loads(Buffer.from('{'), 'application/json', 'utf-8')).toThrow(DecodeError);
  });
});
