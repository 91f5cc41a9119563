import type { PyValue } from '../serialization/py-values';
import { listFixtures, loadFixture } from '../../test/support/fixtures';
import { recordingHost } from '../../test/support/canvas/recording-host';
import { applyAsync } from '../canvas/apply';
import { chain } from '../canvas/primitives';
import { Signature } from '../canvas/signature';
import { toTaskInput } from './apply-options';
import { TaskHandle, type TaskSender } from './task-handle';

type Dict = Record<string, PyValue>;
const sender: TaskSender = {
  sendTask: () => Promise.reject(new Error('not sent in this test')),
};
const add = new TaskHandle<[number, number], number>('tasks.add', sender);
const mul = new TaskHandle<[number], number>('tasks.mul', sender);

describe('TaskHandle.s() / .si() (celery/app/task.py, Task.s)', () => {
  it('returns canvas signatures that chain() accepts', () => {
    const s = add.s([1, 2]);
    expect(s).toBeInstanceOf(Signature);
    expect(add.si([1, 2]).immutable).toBe(true);
    expect(() => chain(s, mul.s([3]))).not.toThrow();
  });

  it.each(listFixtures('canvas').filter((f) => f.file.endsWith('/v2-chain-3.json')))(
    'a chain of handle signatures publishes what Celery does: $file',
    async ({ file, line }) => {
      const fx = loadFixture(file, line);
      const host = recordingHost(line, 2);
      await applyAsync(chain(add.s([1, 2]), mul.s([3]), mul.s([4])), host, [], {}, {});
      expect(host.rec.messages.map((m) => m.body)).toEqual(
        (fx.expected.messages as Dict[]).map((m) => m.body_b64),
      );
    },
  );

  it('goes into link/linkError as its dict', () => {
    const defaults = {
      serializer: 'json',
      compression: null,
      protocol: 2,
      deliveryMode: 2,
      profile: 'celery-5.7',
      jsonDialect: 'kombu-5.3',
    } as const;
    const cb = mul.s([10]);
    const t = toTaskInput('tasks.add', 'i', { link: cb, linkError: [cb] }, defaults, undefined);
    expect(t.link).toEqual(cb.toDict());
    expect(t.linkError).toEqual([cb.toDict()]);
  });
});
