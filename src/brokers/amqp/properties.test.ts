import { EncodeError } from '../../errors/errors';
import { PyDateTime, PyDecimal, PyFloat, PyUUID } from '../../serialization/py-values';
import { fromAmqpMessage, toFieldValue, toPublishOptions } from './properties';

describe('AMQP field tables (py-amqp _write_item types)', () => {
  it('never lets amqplib guess short int types and keeps voids', () => {
    expect(toFieldValue(5)).toEqual({ '!': 'int', value: 5 });
    expect(toFieldValue(2 ** 40)).toEqual({ '!': 'long', value: 2n ** 40n });
    expect(toFieldValue(new PyFloat(1))).toEqual({ '!': 'double', value: 1 });
    expect(toFieldValue([null, null])).toEqual({
      '!': 'object',
      value: [
        { '!': 'object', value: null },
        { '!': 'object', value: null },
      ],
    });
    expect(toFieldValue(new PyDecimal('1.50'))).toEqual({
      '!': 'decimal',
      value: { places: 2, digits: 150 },
    });
    expect(toFieldValue(new PyDateTime('2024-01-02T03:04:05+00:00'))).toEqual({
      '!': 'timestamp',
      value: 1704164645,
    });
  });

  it('refuses values py-amqp cannot send', () => {
    expect(() => toFieldValue(new PyUUID('12345678-1234-5678-1234-567812345678'))).toThrow(
      EncodeError,
    );
    expect(() => toFieldValue(2n ** 64n)).toThrow(EncodeError);
  });

  it('maps properties and omits absent ones', () => {
    const o = toPublishOptions({
      body: new Uint8Array(),
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: {},
      properties: { correlation_id: 'x', message_id: null, delivery_mode: 2 },
    });
    expect(o).toEqual({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: {},
      correlationId: 'x',
      deliveryMode: 2,
    });
  });

  it('decodes amqplib tagged values like py-amqp _read_item', () => {
    const m = fromAmqpMessage(new Uint8Array([1]), {
      contentType: 'application/json',
      headers: {
        t: { '!': 'timestamp', value: 1704164645 },
        d: { '!': 'decimal', value: { places: 2, digits: 150 } },
        x: Buffer.from('hi'),
      },
      priority: 3,
    });
    expect((m.headers.t as PyDateTime).iso).toBe('2024-01-02T03:04:05');
    expect((m.headers.d as PyDecimal).value).toBe('1.5');
    expect(m.headers.x).toEqual(new Uint8Array([104, 105]));
    expect(m.properties).toEqual({ priority: 3 });
  });
});
