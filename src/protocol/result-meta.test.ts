import { buildResultMeta } from './result-meta';

const now = new Date(Date.UTC(2026, 11, 3, 6, 0, 0));
const exc = { exc_type: 'ChordError', exc_message: ['x'], exc_module: 'celery.exceptions' };
const groupChild = [[['G1', null], [[['E1', null], null]]]];

describe('buildResultMeta children', () => {
  it("without a request, `children` are the running task's (`current_task_children(None)`)", () => {
    const meta = buildResultMeta({
      taskId: 'B1',
      state: 'FAILURE',
      result: exc,
      currentChildren: groupChild,
      now,
      extended: true,
    });
    expect(meta.children).toEqual(groupChild);
    // No request: no group/parent ids and no extended keys, as `_get_result_meta`.
    expect(Object.keys(meta)).toEqual([
      'status',
      'result',
      'traceback',
      'children',
      'date_done',
      'task_id',
    ]);
  });

  it("with a request, its own children win (the request is the task's)", () => {
    const meta = buildResultMeta({
      taskId: 'T1',
      state: 'SUCCESS',
      result: 1,
      request: { children: [] },
      currentChildren: groupChild,
      now,
    });
    expect(meta.children).toEqual([]);
  });
});
