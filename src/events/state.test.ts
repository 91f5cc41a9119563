import { EventState, type CeleryEvent } from './state';

const ev = (type: string, f: Record<string, unknown>): CeleryEvent => ({
  type,
  hostname: 'w@h',
  ...f,
});

describe('EventState (celery.events.state.State)', () => {
  it('a late task-received merges its fields but never downgrades SUCCESS', () => {
    const s = new EventState(() => 1000);
    s.event(ev('task-succeeded', { uuid: 't1', result: '5', timestamp: 999 }));
    s.event(ev('task-received', { uuid: 't1', name: 'add', args: '(2, 3)', timestamp: 998 }));
    const t = s.tasks.get('t1');
    expect(t?.state).toBe('SUCCESS');
    expect(t?.fields).toMatchObject({ name: 'add', args: '(2, 3)', result: '5' });
    expect(t?.times).toEqual({ succeeded: 999, received: 998 });
    expect(s.tasksByType('add').map((x) => x.uuid)).toEqual(['t1']);
    expect([s.eventCount, s.taskCount]).toEqual([2, 1]);
  });
  it('workers are alive until freq × 2 after the last heartbeat; offline clears them', () => {
    let now = 100;
    const s = new EventState(() => now);
    s.event(ev('worker-heartbeat', { freq: 2, timestamp: 99, active: 1, sw_ident: 'py-celery' }));
    expect(s.aliveWorkers().map((w) => w.hostname)).toEqual(['w@h']);
    now = 104;
    expect(s.aliveWorkers()).toEqual([]);
    s.event(ev('worker-heartbeat', { freq: 2, timestamp: 104 }));
    s.event(ev('worker-offline', { timestamp: 104 }));
    expect(s.workers.get('w@h')).toMatchObject({ alive: false, sw_ident: 'py-celery' });
  });
});
