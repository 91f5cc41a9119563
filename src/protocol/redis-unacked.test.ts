import { ProtocolError } from '../errors/errors';
import { listFixtures, loadFixture } from '../../test/support/fixtures';
import { parseUnackedValue, unackedValue } from './redis-unacked';

const cases = listFixtures('redis-unacked').map(({ file, line }) => loadFixture(file, line));

describe('Redis unacked hash values (kombu QoS.append)', () => {
  it('has cases for both lines', () => {
    expect(cases.filter((c) => c.line === '5.7')).toHaveLength(2);
    expect(cases.filter((c) => c.line === '5.2')).toHaveLength(2);
  });

  it.each(cases.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const i = fx.input;
    const hset = fx.expected.hset as string[];
    expect(hset.slice(0, 3)).toEqual(['hset', 'unacked', i.delivery_tag]);
    const text = unackedValue(i.envelope as string, i.exchange as string, i.routing_key as string);
    expect(text).toBe(hset[3]);
    expect(parseUnackedValue(text)).toEqual({
      envelope: i.envelope,
      exchange: i.exchange,
      routingKey: i.routing_key,
    });
  });

  it('refuses malformed entries with a typed error', () => {
    expect(() => parseUnackedValue('[1, 2]')).toThrow(ProtocolError);
    expect(() => parseUnackedValue('[{}, 1, "k"]')).toThrow(ProtocolError);
  });
});
