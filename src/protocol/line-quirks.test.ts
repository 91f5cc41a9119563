import { loadFixture } from '../../test/support/fixtures';
import {
  chainedChordKwargs,
  chordHeaderKwargs,
  chordJoinSize,
  effectiveIgnoreResult,
  LINE_QUIRKS,
  quirksOf,
} from './line-quirks';
import { PROFILES, type CeleryProfileName } from './profiles';

const NAMES = Object.keys(PROFILES) as CeleryProfileName[];

describe('line quirks', () => {
  it('has an entry for every profile', () => {
    expect(Object.keys(LINE_QUIRKS).sort()).toEqual([...NAMES].sort());
  });

  it('ignore_result: the header wins on 5.6+ only (get_actual_ignore_result)', () => {
    for (const p of ['celery-5.1', 'celery-5.3', 'celery-5.5'] as const) {
      expect(effectiveIgnoreResult(p, false, true)).toBe(true);
      expect(effectiveIgnoreResult(p, true, false)).toBe(false);
    }
    for (const p of ['celery-5.6', 'celery-5.7'] as const) {
      expect(effectiveIgnoreResult(p, false, true)).toBe(false);
      expect(effectiveIgnoreResult(p, true, false)).toBe(true);
      // No header (5.7 `send_task` pops it with default None): the task's setting.
      expect(effectiveIgnoreResult(p, null, true)).toBe(true);
      expect(effectiveIgnoreResult(p, undefined, false)).toBe(false);
    }
  });

  it('chord size: the body signature on 4.4/5.0, the .s key after', () => {
    expect(chordJoinSize('celery-4.4', '9', { task: 'b', chord_size: 3 })).toBe(3);
    expect(chordJoinSize('celery-5.0', null, { task: 'b', chord_size: 2n })).toBe(2);
    expect(chordJoinSize('celery-5.0', '3', { task: 'b' })).toBeNull();
    expect(chordJoinSize('celery-5.1', '3', { task: 'b', chord_size: 9 })).toBe(3);
    expect(chordJoinSize('celery-5.7', null, { task: 'b', chord_size: 9 })).toBeNull();
  });

  it('chained chord kwargs: one level deeper on ≤5.1, none for the header tasks', () => {
    expect(chainedChordKwargs('celery-5.1', {})).toEqual({ kwargs: {} });
    expect(chainedChordKwargs('celery-4.4', { a: 1 })).toEqual({ kwargs: { a: 1 } });
    expect(chainedChordKwargs('celery-5.2', { a: 1 })).toEqual({ a: 1 });
    expect(chordHeaderKwargs('celery-5.1', { kwargs: {} }, { x: 1 })).toEqual({});
    expect(chordHeaderKwargs('celery-5.2', { a: 1 }, { x: 1 })).toEqual({ a: 1, x: 1 });
  });

  it('agrees with the generated fixtures', () => {
    for (const name of NAMES) {
      const line = name.slice('celery-'.length);
      const q = quirksOf(name);
      // group members carry group_index from 5.3
      const grp = loadFixture(`celery-${line}/canvas/v2-group-2.json`);
      const msgs = grp.expected.messages as { headers: { group_index: unknown } }[];
      expect(msgs[0]?.headers.group_index === 0).toBe(q.groupIndex);
      // 4.4 joins chords in a list (RPUSH), later lines in a ZSET; 4.4/5.0 read no `.s`.
      const cpr = loadFixture(`celery-${line}/result/chord-part-return.json`);
      const cmds = (cpr.expected.commands as unknown[][]).map((c) => c[0]);
      if (!q.chordSizeInBody) continue;
      expect(cmds[0]).toBe(q.chordOrderedDefault ? 'zadd' : 'rpush');
      expect(JSON.stringify(cpr.expected.commands)).not.toContain('.s"');
    }
  });
});
