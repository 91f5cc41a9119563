import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApplyOptions } from '../client/apply-options';
import { Beat } from './beat';
import { FileBeatStore } from './file-store';
import { crontab, every } from './schedules';
import type { BeatEntry } from './store';

/** A beat on a fake clock, sending into a list (the real sender is the app's sendTask). */
function harness(path: string, entries: BeatEntry[], start: Date) {
  let now = start;
  const sent: { name: string; opts: ApplyOptions; at: string }[] = [];
  const beat = new Beat({
    store: new FileBeatStore(path),
    entries,
    sender: {
      sendTask: (name, opts = {}) => {
        sent.push({ name, opts, at: now.toISOString() });
        return Promise.resolve({ id: String(sent.length) });
      },
    },
    now: () => now,
  });
  return {
    beat,
    sent,
    advance: (s: number) => {
      now = new Date(now.getTime() + s * 1000);
    },
  };
}

const entries: BeatEntry[] = [
  {
    name: 'every-2s',
    task: 'proj.add',
    schedule: every(2),
    args: [1, 2],
    kwargs: {},
    options: { queue: 'py', routing_key: 'py', priority: 5, x_custom: 'p' },
  },
  {
    name: 'each-minute',
    task: 'proj.tick',
    schedule: crontab({ minute: '*' }),
    args: [],
    kwargs: { n: 1 },
    options: {},
  },
];

describe('Beat over the file store, on a fake clock', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'beat-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends each entry when due, with its apply_async options mapped, and sleeps until the next', async () => {
    const h = harness(join(dir, 'schedule.json'), entries, new Date('2026-01-01T10:00:30Z'));
    await h.beat.setup();
    expect(await h.beat.tick()).toBe(2); // a new interval entry counts from the start
    expect(h.sent).toEqual([]);
    h.advance(2);
    expect(await h.beat.tick()).toBe(2);
    expect(h.sent).toEqual([
      {
        name: 'proj.add',
        at: '2026-01-01T10:00:32.000Z',
        opts: {
          queue: 'py',
          routingKey: 'py',
          priority: 5,
          properties: { x_custom: 'p' },
          args: [1, 2],
          kwargs: {},
        },
      },
    ]);
    h.advance(28); // 10:01:00: both due
    await h.beat.tick();
    expect(h.sent.slice(1).map((s) => s.name)).toEqual(['proj.add', 'proj.tick']);
  });

  it('a restart neither skips nor doubles a run', async () => {
    const path = join(dir, 'schedule.json');
    const a = harness(path, entries, new Date('2026-01-01T10:00:00Z'));
    await a.beat.setup();
    a.advance(2);
    await a.beat.tick();
    expect(a.sent.map((s) => s.at)).toEqual(['2026-01-01T10:00:02.000Z']);
    // Restarted one second later: the 2 s entry is not due again until 10:00:04.
    const b = harness(path, entries, new Date('2026-01-01T10:00:03Z'));
    await b.beat.setup();
    await b.beat.tick();
    expect(b.sent).toEqual([]);
    b.advance(1);
    await b.beat.tick();
    expect(b.sent.map((s) => s.at)).toEqual(['2026-01-01T10:00:04.000Z']);
    // Restarted after missing several periods: one catch-up run, not one per missed period.
    const c = harness(path, entries, new Date('2026-01-01T10:00:20Z'));
    await c.beat.setup();
    await c.beat.tick();
    expect(c.sent.filter((s) => s.name === 'proj.add')).toHaveLength(1);
  });
});
