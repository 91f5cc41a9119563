import type { ChordJoin, ResultBackend, StoreOptions } from '../backends/backend';
import { pendingMeta } from '../backends/codec';
import { InvalidTaskError } from '../errors/errors';
import type { PyValue } from '../serialization/py-values';
import { applyAsync } from './apply';
import { Chain, chain, chord, group } from './primitives';
import {
  afterFailure,
  chordErrorDict,
  dispatchCallbacksAndChain,
  type CanvasRequest,
  type ProgressionHost,
} from './progression';
import { Signature, si, signature } from './signature';
import { recordingHost } from '../../test/support/canvas/recording-host';

const s = (name: string, ...args: PyValue[]): Signature => signature(name, { args });

interface Stored {
  id: string;
  state: string;
  result: PyValue;
  children?: readonly PyValue[];
}

/** A result backend that only records stores (progression is what is under test). */
function progressionHost(line = '5.7'): ProgressionHost & {
  stored: Stored[];
  rec: ReturnType<typeof recordingHost>['rec'];
} {
  const base = recordingHost(line, 2);
  const stored: Stored[] = [];
  const backend = {
    capabilities: { supportsNativeJoin: true, persistent: true, supportsGroups: true },
    getTaskMeta: (id: string) => Promise.resolve(pendingMeta(id)),
    storeResult: (id: string, result: PyValue, state: string, o?: StoreOptions) => {
      stored.push({
        id,
        state,
        result,
        ...(o?.currentChildren ? { children: o.currentChildren } : {}),
      });
      return Promise.resolve();
    },
  } as unknown as ResultBackend;
  return { ...base, backend, stored };
}

const req = (over: Partial<CanvasRequest>): CanvasRequest => ({
  id: 'T1',
  rootId: 'R0',
  parentId: null,
  groupId: null,
  groupIndex: null,
  callbacks: null,
  errbacks: null,
  chain: null,
  chord: null,
  ...over,
});

describe('worker-side progression', () => {
  it('one callback gets the return value prepended; the chain pops its last step', async () => {
    const host = progressionHost();
    const next = s('tasks.mul', 4).set({ task_id: 'N1' });
    const after = s('tasks.add', 1).set({ task_id: 'N2' });
    const children = await dispatchCallbacksAndChain(
      req({
        callbacks: [s('tasks.log').set({ task_id: 'C1' }).toDict()],
        chain: [after.toDict(), next.toDict()],
      }),
      5,
      host,
    );
    const [cb, step] = host.rec.messages;
    expect(cb?.name).toBe('tasks.log');
    expect(cb?.args).toEqual([5]);
    expect(cb?.headers.parent_id).toBe('T1');
    expect(cb?.headers.root_id).toBe('R0');
    expect(step?.name).toBe('tasks.mul');
    expect(step?.args).toEqual([5, 4]);
    expect(step?.options.chain).toEqual([after.toDict()]);
    expect(children).toEqual([
      [['C1', null], null],
      [['N1', null], null],
    ]);
  });

  it('several callbacks are sent as one group (GroupResult child)', async () => {
    const host = progressionHost();
    const children = await dispatchCallbacksAndChain(
      req({ callbacks: [s('a').toDict(), si('b').toDict()] }),
      7,
      host,
    );
    const [a, b] = host.rec.messages;
    expect(a?.headers.group).toBe(b?.headers.group);
    expect([a?.headers.group_index, b?.headers.group_index]).toEqual([0, 1]);
    expect(a?.args).toEqual([7]);
    expect(b?.args).toEqual([]);
    expect(children).toHaveLength(1);
    expect((children[0] as PyValue[])[1]).toHaveLength(2);
  });

  it('failure: chain remainder FAILURE, errbacks as a group with (task_id,)', async () => {
    const host = progressionHost();
    const exc = { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' };
    await afterFailure(
      req({
        errbacks: [s('tasks.on_err').toDict()],
        chain: [s('x').set({ task_id: 'X2' }).toDict(), s('y').set({ task_id: 'X1' }).toDict()],
      }),
      exc,
      'tb',
      host,
    );
    expect(host.stored.map((r) => [r.id, r.state])).toEqual([
      ['X2', 'FAILURE'],
      ['X1', 'FAILURE'],
    ]);
    const [eb] = host.rec.messages;
    expect(eb?.args).toEqual(['T1']);
    expect(eb?.headers.parent_id).toBe('T1');
    expect(typeof eb?.headers.group).toBe('string');
  });

  it('chord part return goes through the backend join; a failed dependency fails the body', async () => {
    const host = progressionHost();
    const calls: string[] = [];
    const join: ChordJoin = {
      setChordSize: () => Promise.resolve(),
      onChordPartReturn: async (r, state, _res, hooks) => {
        calls.push(`${r.taskId} ${state} ${String(r.groupIndex)}`);
        await hooks.failBody(r.chord, "Dependency T1 raised ValueError('boom')");
      },
    };
    Object.assign(host.backend, { chordJoin: join });
    const body = s('tasks.tsum').set({
      task_id: 'B1',
      link_error: [s('tasks.on_err').toDict()],
    });
    const exc = { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' };
    await afterFailure(
      req({ groupId: 'G1', groupIndex: 1, chord: body.toDict() }),
      exc,
      null,
      host,
    );
    expect(calls).toEqual(['T1 FAILURE 1']);
    const eb = host.rec.messages[0];
    expect(eb?.args).toEqual(['B1']);
    // `fail_from_current_stack` stores with no request: `children` are the running task's,
    // i.e. the errback group `_call_task_errbacks` just sent (`test_chord_on_error` reads it).
    const gid = eb?.headers.group as string;
    expect(host.stored).toEqual([
      {
        id: 'B1',
        state: 'FAILURE',
        result: chordErrorDict("Dependency T1 raised ValueError('boom')"),
        children: [[[gid, null], [[[eb?.headers.id as string, null], null]]]],
      },
    ]);
  });
});

describe('applying', () => {
  it('an empty chord header applies the body at once with []', async () => {
    const host = recordingHost('5.7', 2);
    await applyAsync(chord([], s('tasks.tsum')), host);
    expect(host.rec.messages.map((m) => [m.name, m.args])).toEqual([['tasks.tsum', [[]]]]);
    expect(host.rec.events.some((e) => e.startsWith('size'))).toBe(false);
  });

  it('a group refuses link/link_error like Celery', async () => {
    const host = recordingHost('5.7', 2);
    await expect(applyAsync(group(s('a')), host, [], {}, { link: s('b') })).rejects.toBeInstanceOf(
      InvalidTaskError,
    );
  });

  it('a chord is refused where the backend cannot join (rpc)', async () => {
    const host = recordingHost('5.7', 2);
    host.ensureChordsAllowed = () => Promise.reject(new Error('no chords'));
    await expect(applyAsync(chord([s('a')], s('b')), host)).rejects.toThrow('no chords');
    await expect(applyAsync(chain(s('a'), group(s('b'), s('c')), s('d')), host)).rejects.toThrow(
      'no chords',
    );
    expect(host.rec.messages).toHaveLength(0);
  });

  it('Celery 4.4 profile: every signature dict carries chord_size, the body the header size', async () => {
    const host = recordingHost('4.4', 2);
    await applyAsync(chord([s('a'), s('b'), s('c')], s('tsum')), host);
    const embedded = host.rec.messages[0]?.options.chord as Record<string, PyValue>;
    expect(embedded.chord_size).toBe(3);
    // The body is a `Signature.clone` (`_chord.apply_async`), rebuilt from a dict literal with
    // `chord_size` before `immutable`, as in protocol-fixtures/celery-4.4/canvas/v2-chord.json.
    expect(Object.keys(embedded)).toEqual([
      'task',
      'args',
      'kwargs',
      'options',
      'subtask_type',
      'chord_size',
      'immutable',
    ]);
  });

  it('fromDict dispatches nested canvases and round-trips', () => {
    const c = chain(s('a', 1), group(s('b'), s('c')), s('d'));
    const d = c.toDict();
    expect(Signature.fromDict(d).toDict()).toEqual(d);
    expect(Signature.fromDict(d).subtaskType).toBe('chain');
  });

  it('a chain body applied with the chord results gets them once (`_chain.prepare_steps`, clone)', async () => {
    const host = recordingHost('5.7', 2);
    // The body of a chord nested in a chord header reaches the worker as a chain.
    const body = Signature.fromDict(chain(s('add_to_all', 5), s('tsum')).toDict());
    await applyAsync(body, host, [[3, 7]]);
    expect(host.rec.messages[0]?.args).toEqual([[3, 7], 5]);
    await applyAsync(chain(si('fixed', [1]), s('tsum')), host, [[3, 7]]);
    expect(host.rec.messages[1]?.args).toEqual([1]);
  });

  it("chain(c, x) splices c's steps with c's link_error on each and its link on the last", () => {
    const inner = chain(s('identity', 'Hello'), s('raise_error'));
    inner.linkError(si('redis_echo', ['eb']));
    inner.link(si('redis_echo', ['cb']));
    const c = chain(inner, s('add', 'x'));
    if (!(c instanceof Chain)) throw new Error('not a chain');
    const names = (v: unknown): string[] =>
      ((v ?? []) as Signature[]).map((x) => `${x.task}${JSON.stringify(x.args)}`);
    expect(c.tasks.map((t) => names(t.options.link_error))).toEqual([
      ['redis_echo["eb"]'],
      ['redis_echo["eb"]'],
      [],
    ]);
    expect(c.tasks.map((t) => names(t.options.link))).toEqual([[], ['redis_echo["cb"]'], []]);
  });
});
