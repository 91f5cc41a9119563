import { BoundedEventSender } from './event-sender';

describe('BoundedEventSender', () => {
  it('caps publishes in flight, drops and warns once, then sends again once drained', async () => {
    const resolvers: (() => void)[] = [];
    const sink = {
      enabled: true,
      send: jest.fn(() => new Promise<void>((r) => resolvers.push(r))),
    };
    const logs: string[] = [];
    const s = new BoundedEventSender(sink, (_l, m) => logs.push(m), 3);
    for (let i = 0; i < 10; i++) s.send('task-received', { i });
    expect(sink.send).toHaveBeenCalledTimes(3);
    expect(s.dropped).toBe(7);
    expect(logs).toHaveLength(1);
    for (const r of resolvers.splice(0)) r();
    await new Promise((r) => setImmediate(r));
    expect(s.pending).toBe(0);
    s.send('task-succeeded', {});
    expect(sink.send).toHaveBeenCalledTimes(4);
  });

  it('sends nothing while events are disabled', () => {
    const sink = { enabled: false, send: jest.fn(() => Promise.resolve()) };
    new BoundedEventSender(sink, () => undefined).send('x', {});
    expect(sink.send).not.toHaveBeenCalled();
  });
});
