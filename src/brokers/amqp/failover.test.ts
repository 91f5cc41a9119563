import { FailoverCycle, failoverStrategy, roundRobin, shuffleCycle } from './failover';

describe('kombu failover strategies (kombu/connection.py, failover_strategies)', () => {
  it('round-robin is itertools.cycle; the first entry is skipped at construction', () => {
    const c = new FailoverCycle(['h1', 'h2', 'h3'], roundRobin);
    expect(c.current).toBe('h1');
    expect([c.next(), c.next(), c.next(), c.next()]).toEqual(['h2', 'h3', 'h1', 'h2']);
  });

  it('restart() is a new kombu.Connection of the same list: back to alt[0], cycle skipped once', () => {
    const c = new FailoverCycle(['h1', 'h2', 'h3'], roundRobin);
    c.next();
    c.next();
    expect(c.current).toBe('h3');
    c.restart();
    expect(c.current).toBe('h1');
    expect([c.next(), c.next(), c.next()]).toEqual(['h2', 'h3', 'h1']);
  });

  it('completes_cycle: not (retries + 1) % len(alt); always true for one URL', () => {
    const c = new FailoverCycle(['h1', 'h2', 'h3'], roundRobin);
    expect([0, 1, 2, 3, 4, 5].map((r) => c.completesCycle(r))).toEqual([
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
    const one = new FailoverCycle(['h1'], roundRobin);
    expect(one.completesCycle(0)).toBe(true);
    expect(one.next()).toBe('h1');
  });

  it('shuffle is shufflecycle: shuffles a copy each time and yields its first item', () => {
    const list = ['a', 'b', 'c'];
    // random() = 0: Fisher-Yates swaps i=2 then i=1 with 0: [a,b,c] → [b,c,a] → [c,a,b] → [a,b,c]
    const it = shuffleCycle(list, () => 0);
    expect([it.next().value, it.next().value, it.next().value]).toEqual(['b', 'c', 'a']);
    expect(list).toEqual(['a', 'b', 'c']);
    const seen = new Set<string>();
    const r = failoverStrategy<string>('shuffle')(list);
    for (let i = 0; i < 200; i++) seen.add(r.next().value as string);
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
  });

  it('broker_failover_strategy: None → round-robin; a function is used as is; else refused', () => {
    expect(failoverStrategy(null)).toBe(roundRobin);
    expect(failoverStrategy(undefined)).toBe(roundRobin);
    const f = (a: readonly string[]): Iterator<string> => roundRobin(a);
    expect(failoverStrategy(f)).toBe(f);
    expect(() => failoverStrategy('random' as 'shuffle')).toThrow(/broker_failover_strategy/);
    expect(() => new FailoverCycle([], roundRobin)).toThrow(/empty broker URL/);
  });
});
