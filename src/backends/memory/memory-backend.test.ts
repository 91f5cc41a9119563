import { groupResultTuple } from '../../protocol/result-meta';
import type { PyValue } from '../../serialization/py-values';
import type { ChordJoinHooks } from '../backend';
import { MemoryBackend, MemoryResultStore, sharedResultStore } from './memory-backend';

const NOW = new Date('2026-01-02T03:04:05.123456Z');

describe('memory result backend (cache+memory://, Redis semantics)', () => {
  it('unknown tasks are PENDING; stored documents read back as Celery writes them', async () => {
    const b = new MemoryBackend({ now: () => NOW });
    expect((await b.getTaskMeta('nope')).status).toBe('PENDING');
    await b.storeResult('t1', { a: 1 }, 'SUCCESS', {
      request: { group: 'g1', parentId: 'p1', children: [] },
    });
    const m = await b.getTaskMeta('t1');
    expect(m.status).toBe('SUCCESS');
    expect(m.result).toEqual({ a: 1 });
    expect(m.raw).toMatchObject({ group_id: 'g1', parent_id: 'p1', task_id: 't1' });
    expect(m.dateDone).not.toBeNull();
  });

  it('never overwrites a stored SUCCESS', async () => {
    const b = new MemoryBackend();
    await b.storeResult('t', 1, 'SUCCESS');
    await b.storeResult('t', null, 'STARTED');
    expect((await b.getTaskMeta('t')).status).toBe('SUCCESS');
  });

  it('waiters see every state and settle on READY; a done task resolves at once', async () => {
    const b = new MemoryBackend();
    const seen: string[] = [];
    const w = b.waitForResult('t', { onState: (m) => seen.push(m.status) });
    await b.storeResult('t', null, 'STARTED');
    await b.storeResult('t', { current: 1 }, 'PROGRESS');
    await b.storeResult('t', 42, 'SUCCESS');
    expect((await w).result).toBe(42);
    expect(seen).toEqual(['STARTED', 'PROGRESS', 'SUCCESS']);
    expect((await b.waitForResult('t')).result).toBe(42);
  });

  it('times out with the Celery message', async () => {
    const b = new MemoryBackend();
    await expect(b.waitForResult('never', { timeoutMs: 10 })).rejects.toThrow(
      'The operation timed out',
    );
  });

  it('failures keep the exception document and traceback', async () => {
    const b = new MemoryBackend();
    const exc = { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' };
    await b.storeResult('f', exc, 'FAILURE', { traceback: 'Traceback …' });
    const m = await b.getTaskMeta('f');
    expect(m.status).toBe('FAILURE');
    expect(m.error?.excType).toBe('ValueError');
    expect(m.traceback).toBe('Traceback …');
  });

  it('results are serialized like the Redis backend: unserializable values are refused', async () => {
    const b = new MemoryBackend();
    await expect(b.storeResult('x', 1n << 70n, 'SUCCESS')).resolves.toBeUndefined();
    expect((await b.getTaskMeta('x')).result).toBe(1n << 70n);
    const msgpack = new MemoryBackend({ serializer: 'msgpack', accept: ['json'] });
    await msgpack.storeResult('y', 1, 'SUCCESS');
    await expect(msgpack.getTaskMeta('y')).rejects.toThrow();
  });

  it('forget deletes; groups save/restore/delete as {"result": tuple}', async () => {
    const b = new MemoryBackend();
    await b.storeResult('t', 1, 'SUCCESS');
    await b.forget('t');
    expect((await b.getTaskMeta('t')).status).toBe('PENDING');
    const tuple = groupResultTuple('g', ['a', 'b']);
    await b.saveGroup('g', tuple);
    expect(await b.restoreGroup('g')).toEqual(tuple);
    await b.deleteGroup('g');
    expect(await b.restoreGroup('g')).toBeNull();
  });

  it('backends on one store share results and wake each other', async () => {
    const store = new MemoryResultStore();
    const client = new MemoryBackend({ store });
    const worker = new MemoryBackend({ store });
    const w = client.waitForResult('t');
    await worker.storeResult('t', 'hi', 'SUCCESS');
    expect((await w).result).toBe('hi');
    expect(sharedResultStore('cache+memory://x')).toBe(sharedResultStore('cache+memory://x'));
    await client.close();
    await expect(client.getTaskMeta('t')).rejects.toThrow('closed');
    expect((await worker.getTaskMeta('t')).result).toBe('hi');
  });

  it('close rejects outstanding waits', async () => {
    const b = new MemoryBackend();
    const w = b.waitForResult('t');
    await b.close();
    await expect(w).rejects.toThrow('result backend closed');
  });
});

describe('memory chord join (RedisBackend.on_chord_part_return semantics)', () => {
  function hooks(): ChordJoinHooks & { calls: PyValue[] } {
    const calls: PyValue[] = [];
    return {
      calls,
      publishBody: (body, results) => {
        calls.push(['publish', body, results]);
        return Promise.resolve();
      },
      failBody: (body, message) => {
        calls.push(['fail', body, message]);
        return Promise.resolve();
      },
    };
  }
  const part = (taskId: string, groupIndex: number) => ({
    taskId,
    groupId: 'g',
    groupIndex,
    chord: { task: 'body' },
  });

  it('fires once, with results in group order, dedupes redelivered parts', async () => {
    const b = new MemoryBackend();
    const h = hooks();
    await b.chordJoin.setChordSize('g', 3);
    await b.chordJoin.onChordPartReturn(part('c', 2), 'SUCCESS', 'C', h);
    await b.chordJoin.onChordPartReturn(part('a', 0), 'SUCCESS', 'A', h);
    await b.chordJoin.onChordPartReturn(part('a', 0), 'SUCCESS', 'A', h);
    expect(h.calls).toEqual([]);
    await b.chordJoin.onChordPartReturn(part('b', 1), 'SUCCESS', 'B', h);
    await b.chordJoin.onChordPartReturn(part('b', 1), 'SUCCESS', 'B', h);
    expect(h.calls).toEqual([['publish', { task: 'body' }, ['A', 'B', 'C']]]);
  });

  it('a failed header task fails the body with Dependency … raised …', async () => {
    const b = new MemoryBackend();
    const h = hooks();
    await b.chordJoin.setChordSize('g', 2);
    await b.chordJoin.onChordPartReturn(part('a', 0), 'SUCCESS', 1, h);
    const exc = { exc_type: 'KeyError', exc_message: ['k'], exc_module: 'builtins' };
    await b.chordJoin.onChordPartReturn(part('b', 1), 'FAILURE', exc, h);
    expect(h.calls).toEqual([['fail', { task: 'body' }, "Dependency b raised KeyError('k')"]]);
  });

  it('a failing publish fails the body with Callback error', async () => {
    const b = new MemoryBackend();
    const calls: string[] = [];
    const h: ChordJoinHooks = {
      publishBody: () => Promise.reject(new Error('no route')),
      failBody: (_b, m) => {
        calls.push(m);
        return Promise.resolve();
      },
    };
    await b.chordJoin.setChordSize('g', 1);
    await b.chordJoin.onChordPartReturn(part('a', 0), 'SUCCESS', 1, h);
    expect(calls).toEqual(['Callback error: no route']);
  });
});
