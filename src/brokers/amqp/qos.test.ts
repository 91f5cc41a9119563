import { qosGlobal } from './consumer';

// celery/worker/consumer/tasks.py `qos_global` + kombu pyamqp `qos_semantics_matches_spec`.
describe('basic.qos global flag', () => {
  const rabbit = (version: string): Record<string, unknown> => ({ product: 'RabbitMQ', version });
  test('explicit modes', () => {
    expect(qosGlobal(undefined, rabbit('3.10.8'))).toBe(true);
    expect(qosGlobal(true, rabbit('4.1.0'))).toBe(true);
    expect(qosGlobal(false, rabbit('3.10.8'))).toBe(false);
  });
  test('kombu 5.7: global on RabbitMQ 3.3–3.x only', () => {
    expect(qosGlobal('by-server-version', rabbit('3.10.8'))).toBe(true);
    expect(qosGlobal('by-server-version', rabbit('3.2.4'))).toBe(false);
    expect(qosGlobal('by-server-version', rabbit('4.0.5'))).toBe(false);
    expect(
      qosGlobal('by-server-version', { product: Buffer.from('RabbitMQ'), version: '4.3.0' }),
    ).toBe(false);
    expect(qosGlobal('by-server-version', { product: 'OtherBroker', version: '3.10' })).toBe(false);
  });
});
