import type { Redis } from 'ioredis';
import { pyRepr } from '../../protocol/repr';
import type { PyValue } from '../../serialization/py-values';
import { loadFixture } from '../../../test/support/fixtures';
import { RedisChordJoin, exceptionRepr } from './chord-join';
import { CHORD_PART_RETURN_LUA } from './chord-scripts';

type Call = (string | number)[];

/** Records what the join sends; replies as a chord that is not complete yet. */
function recorder(): { client: Redis; calls: Call[] } {
  const calls: Call[] = [];
  const str = (a: unknown[]): Call =>
    a.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : (x as string | number)));
  const multi = {
    ops: [] as Call[],
  };
  const chain = new Proxy(multi, {
    get(_t, prop: string) {
      if (prop === 'exec') {
        return () => {
          calls.push(...multi.ops);
          return Promise.resolve(
            multi.ops.map((op) => [null, op[0] === 'zcount' || op[0] === 'llen' ? 1 : null]),
          );
        };
      }
      return (...a: unknown[]) => {
        multi.ops.push([prop, ...str(a)]);
        return chain;
      };
    },
  });
  const client = {
    evalsha: (...a: unknown[]) => {
      calls.push(['evalsha', ...str(a)]);
      return Promise.resolve([1, null, '3', 0]);
    },
    multi: () => {
      multi.ops = [];
      return chain;
    },
  } as unknown as Redis;
  return { client, calls };
}

const hooks = {
  publishBody: () => Promise.reject(new Error('not complete: must not publish')),
  failBody: () => Promise.reject(new Error('not complete: must not fail')),
};

function fixture(line: string): { input: Record<string, PyValue>; commands: PyValue[][] } {
  const fx = loadFixture(`celery-${line}/result/chord-part-return.json`, line);
  return { input: fx.input, commands: fx.expected.commands as PyValue[][] };
}

describe('Redis chord part return matches Celery', () => {
  it('5.7: the Lua script is byte-identical and KEYS/ARGV match', async () => {
    const { input, commands } = fixture('5.7');
    const [register, call] = commands as [PyValue[], PyValue[]];
    expect(CHORD_PART_RETURN_LUA).toBe(register[1]);
    const { client, calls } = recorder();
    const join = new RedisChordJoin({
      client,
      profile: 'celery-5.7',
      serializer: 'json',
      accept: ['json'],
      expires: 86400,
      token: () => '00000000000040008000000000000003',
    });
    const req = {
      taskId: input.task_id as string,
      groupId: input.group_id as string,
      groupIndex: 0,
      chord: { task: 'x' },
    };
    await join.onChordPartReturn(req, input.state as string, input.result ?? null, hooks);
    const spec = call[2] as { keys: Uint8Array[]; args: PyValue[] };
    const keys = spec.keys.map((k) => Buffer.from(k).toString('utf8'));
    expect(calls).toHaveLength(1);
    const [cmd, , n, ...rest] = calls[0] ?? [];
    expect(cmd).toBe('evalsha');
    expect(n).toBe(6);
    expect(rest.slice(0, 6)).toEqual(keys);
    expect(rest.slice(6)).toEqual(spec.args.map((a) => (typeof a === 'string' ? a : pyRepr(a))));
  });

  // 5.1–5.6: ZADD/ZCOUNT/GET .t/GET .s/EXPIRE×3; 5.0: no `.s` (size from the body signature);
  // 4.4: RPUSH/LLEN (`result_chord_ordered` defaults to False there).
  it.each(['5.6', '5.5', '5.4', '5.3', '5.2', '5.1', '5.0', '4.4'] as const)(
    '%s: the MULTI pipeline Celery sends',
    async (line) => {
      const { input, commands } = fixture(line);
      const { client, calls } = recorder();
      const join = new RedisChordJoin({
        client,
        profile: `celery-${line}`,
        serializer: 'json',
        accept: ['json'],
        expires: 86400,
      });
      await join.onChordPartReturn(
        {
          taskId: input.task_id as string,
          groupId: input.group_id as string,
          groupIndex: 0,
          chord: { task: 'x', chord_size: input.chord_size ?? null },
        },
        input.state as string,
        input.result ?? null,
        hooks,
      );
      const expected = commands.map((c) => {
        if (c[0] === 'zadd') {
          const [[member, score]] = Object.entries(c[2] as Record<string, PyValue>) as [
            [string, PyValue],
          ];
          return ['zadd', c[1] as string, pyRepr(score), member];
        }
        return c.map((x) => (typeof x === 'number' || typeof x === 'string' ? x : pyRepr(x)));
      });
      expect(calls).toEqual(expected);
    },
  );

  it('formats the dependency repr as Python does', () => {
    expect(
      exceptionRepr({ exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' }),
    ).toBe("ValueError('boom')");
    expect(exceptionRepr({ exc_type: 'KeyError', exc_message: [], exc_module: 'builtins' })).toBe(
      'KeyError()',
    );
  });
});
