import { CeleryTimeoutError } from '../errors/errors';
import type { TaskMeta } from './backend';
import { pendingMeta } from './codec';
import { PendingResults } from './pending';

const meta = (status: string, result: TaskMeta['result'] = null): TaskMeta => ({
  ...pendingMeta('t'),
  status,
  result,
});

describe('PendingResults', () => {
  it('reports every state and settles on READY, telling when the last waiter left', async () => {
    const p = new PendingResults();
    const seen: string[] = [];
    const lasts: boolean[] = [];
    const a = p.add('t', { onState: (m) => seen.push(m.status) }, (l) => lasts.push(l));
    const b = p.add('t', {}, (l) => lasts.push(l));
    expect(p.deliver('t', meta('PROGRESS'))).toBe(true);
    expect(p.deliver('other', meta('SUCCESS'))).toBe(false);
    p.deliver('t', meta('SUCCESS', 5));
    expect((await a).result).toBe(5);
    expect((await b).status).toBe('SUCCESS');
    expect(seen).toEqual(['PROGRESS', 'SUCCESS']);
    expect(lasts).toEqual([false, true]);
    expect(p.has('t')).toBe(false);
  });

  it('times out with a TimeoutError-named error and honours abort signals', async () => {
    const p = new PendingResults();
    const err = await p.add('t', { timeoutMs: 5 }, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CeleryTimeoutError);
    expect((err as Error).name).toBe('TimeoutError');
    const ac = new AbortController();
    const w = p.add('t', { signal: ac.signal }, () => undefined);
    ac.abort(new Error('stop'));
    await expect(w).rejects.toThrow('stop');
    expect(p.ids()).toEqual([]);
  });

  it('bounds every waiter: timeout, abort, forget (release) and close (failAll) all free it', async () => {
    const p = new PendingResults();
    const freed: string[] = [];
    const track = (id: string) => (last: boolean) => {
      if (last) freed.push(id);
    };
    const timedOut = await p.add('a', { timeoutMs: 1 }, track('a')).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(CeleryTimeoutError);
    expect(freed).toEqual(['a']);
    const ac = new AbortController();
    const aborted = p.add('b', { signal: ac.signal }, track('b')).catch((e: unknown) => e);
    const forgotten = p.add('c', {}, track('c')).catch((e: unknown) => e);
    const closed = [1, 2, 3].map(() => p.add('d', {}, track('d')).catch((e: unknown) => e));
    expect(p.size).toBe(5);
    ac.abort();
    p.release('c');
    p.failAll(new Error('result backend closed'));
    await Promise.all([aborted, forgotten, ...closed]);
    expect(((await forgotten) as Error).message).toBe('result of c was forgotten while awaited');
    expect(p.size).toBe(0);
    expect(p.ids()).toEqual([]);
    expect(freed.sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});
