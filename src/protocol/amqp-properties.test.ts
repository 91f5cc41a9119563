import { EncodeError } from '../errors/errors';
import { PyDateTime, PyDecimal, PyFloat } from '../serialization/py-values';
import { fromAmqpMessage, toAmqpPublishOptions } from './amqp-properties';
import type { RawMessage } from './raw-message';

const msg: RawMessage = {
  body: new Uint8Array([1, 2]),
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  headers: {
    lang: 'py',
    eta: null,
    timelimit: [null, 5],
    retries: 0,
    f: new PyFloat(2),
    big: 2n ** 40n,
    stamps: {},
    when: new PyDateTime('2026-01-02T03:04:05+00:00'),
    d: new PyDecimal('1.25'),
  },
  properties: {
    correlation_id: 'id',
    reply_to: 'oid',
    delivery_mode: 2,
    expiration: '60000',
    priority: 0,
    custom: 'x',
  },
};

describe('amqp properties', () => {
  it('maps RawMessage to amqplib publish options, keeping nulls as voids', () => {
    const o = toAmqpPublishOptions(msg);
    expect(o).toEqual({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: {
        lang: 'py',
        eta: null,
        timelimit: [null, 5],
        retries: 0,
        f: { '!': 'double', value: 2 },
        big: { '!': 'long', value: 2n ** 40n },
        stamps: {},
        when: { '!': 'timestamp', value: 1767323045 },
        d: { '!': 'decimal', value: { places: 2, digits: 125 } },
      },
      deliveryMode: 2,
      priority: 0,
      correlationId: 'id',
      replyTo: 'oid',
      expiration: '60000',
    });
    expect('eta' in (o.headers ?? {})).toBe(true);
  });

  it('maps an amqplib delivery back', () => {
    const raw = fromAmqpMessage({
      content: Buffer.from([1, 2]),
      properties: {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: {
          eta: null,
          n: 3,
          blob: Buffer.from('ab'),
          when: { '!': 'timestamp', value: 1767323045 },
        },
        deliveryMode: 2,
        priority: 0,
        correlationId: 'id',
        replyTo: undefined,
      },
    });
    expect(raw.properties).toEqual({ delivery_mode: 2, priority: 0, correlation_id: 'id' });
    expect(raw.headers.eta).toBeNull();
    expect(raw.headers.blob).toEqual(new Uint8Array(Buffer.from('ab')));
    expect((raw.headers.when as PyDateTime).iso).toBe('2026-01-02T03:04:05+00:00');
    expect(Array.from(raw.body)).toEqual([1, 2]);
  });

  it('refuses ints py-amqp could not send either', () => {
    expect(() => toAmqpPublishOptions({ ...msg, headers: { x: 2n ** 70n } })).toThrow(EncodeError);
  });
});
