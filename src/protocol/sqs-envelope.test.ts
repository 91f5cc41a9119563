import { ProtocolError } from '../errors/errors';
import type { RawMessage } from './raw-message';
import { encodeRedisEnvelope } from './redis-envelope';
import { decodeSqsBody, encodeSqsBody, optionalB64Decode } from './sqs-envelope';

const message: RawMessage = {
  body: new Uint8Array(Buffer.from('[[2, 3], {}, {}]')),
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  headers: { task: 'conformance.add', id: 'x' },
  properties: { correlation_id: 'x', delivery_mode: 2 },
};
const di = { exchange: '', routing_key: 'celery' };

describe('SQS message bodies (kombu SQS Channel._put / _message_to_python)', () => {
  it('is base64 of the virtual-transport envelope kombu dumps', () => {
    const body = encodeSqsBody(message, di, 'tag-1');
    const json = encodeRedisEnvelope(message, di, 'tag-1');
    expect(body).toBe(Buffer.from(json).toString('base64'));
    expect(encodeSqsBody(message, di, 'tag-1', { base64: false })).toBe(json);
  });

  it('decodes what it encodes, with or without base64', () => {
    for (const b64 of [true, false]) {
      const got = decodeSqsBody(encodeSqsBody(message, di, 't', { base64: b64 }));
      expect(got.kind).toBe('envelope');
      expect(Buffer.from(got.message.body).toString()).toBe('[[2, 3], {}, {}]');
      expect(got.message.headers).toEqual(message.headers);
      expect(got.message.properties).toEqual({ ...message.properties, priority: 0 });
    }
  });

  // Expected values from kombu 5.7.0's `Channel._optional_b64_decode`.
  it.each([
    ['eyJhIjogMX0=', '{"a": 1}'],
    ['{"a": 1}', '{"a": 1}'],
    ['abcd', 'abcd'],
    ['/w==', '/w=='],
    ['  eyJhIjogMX0=\n', '{"a": 1}'],
  ])('optional base64 %j → %j', (raw, text) => {
    expect(optionalB64Decode(raw)).toBe(text);
  });

  it('wraps a body that is not a kombu envelope, as kombu does', () => {
    const got = decodeSqsBody('hello world');
    expect(got.kind).toBe('foreign');
    expect(got.message.contentType).toBe('');
    expect(Buffer.from(got.message.body).toString()).toBe('hello world');
    expect(decodeSqsBody(Buffer.from('[1, 2]').toString('base64')).kind).toBe('foreign');
  });

  it('names the field of a malformed envelope', () => {
    const bad = Buffer.from('{"body": 1, "properties": {"body_encoding": "base64"}}').toString(
      'base64',
    );
    expect(() => decodeSqsBody(bad)).toThrow(ProtocolError);
    expect(() => decodeSqsBody('{"properties": []}')).toThrow(/properties/);
  });
});
