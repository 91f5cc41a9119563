import { CELERY_LINES } from '../config/config';
import { listFixtures, loadFixture } from '../../test/support/fixtures';
import { pyJsonLoads } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { decodeCommand } from './decode';

async function run(input: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await decodeCommand(['-'], {
    readInput: () => Promise.resolve(input),
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
  });
  return { code, out, err };
}

function obj(v: PyValue | undefined): Record<string, PyValue> {
  if (!isPyDict(v)) throw new Error('expected an object');
  return v;
}

// Raw LRANGE entries that real Celery put into a live Redis list (python-peers/capture.py).
const captured = listFixtures('captured').map(({ file, line }) => loadFixture(file, line));

describe('celery-wire decode', () => {
  it('has captured messages of every Celery line to work on', () => {
    expect(new Set(captured.map((c) => c.line))).toEqual(new Set(CELERY_LINES));
  });

  it.each(captured.map((c) => [c.file, c] as const))('%s', async (_file, c) => {
    const entry = c.expected.entry;
    expect(typeof entry).toBe('string');
    const { code, out, err } = await run(entry as string);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out.endsWith('\n')).toBe(true);
    const doc = obj(pyJsonLoads(out));
    expect(doc.protocol).toBe(c.input.protocol);
    expect(doc.task).toBe(c.input.task);
    expect(doc.id).toBe(c.input.task_id);
    expect(doc.args).toEqual(c.input.args);
    expect(doc.kwargs).toEqual({});
    expect(Object.keys(obj(doc.embed)).sort()).toEqual(['callbacks', 'chain', 'chord', 'errbacks']);
    const options = obj(c.input.options);
    expect(doc.content_type).toBe(
      options.serializer === 'msgpack' ? 'application/x-msgpack' : 'application/json',
    );
    expect(doc.compression).toBe(options.compression === undefined ? null : 'application/x-gzip');
    expect(obj(doc.properties).correlation_id).toBe(c.input.task_id);
    expect(obj(doc.delivery_info).routing_key).toBe(c.input.queue);
    if (options.countdown !== undefined) expect(obj(doc.headers).eta).toMatch(/\+00:00$/);
  });

  it('prints integers exactly and keeps 1.0 a float', async () => {
    // A v2 json message whose args are [2**70, 1.0], in the AMQP JSON input form.
    const body = Buffer.from(
      '[[1180591620717411303424, 1.0], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]',
    ).toString('base64');
    const input = JSON.stringify({
      properties: { content_type: 'application/json', content_encoding: 'utf-8' },
      headers: { lang: 'py', task: 't.big', id: 'i1', root_id: 'i1' },
      body_base64: body,
    });
    const { code, out } = await run(input);
    expect(code).toBe(0);
    expect(out).toContain('"args": [1180591620717411303424, 1.0]');
  });

  it.each([
    ['not JSON', 'hello'],
    ['a JSON array', '[1, 2]'],
    ['an envelope with a broken body', '{"body": 5, "properties": {}}'],
    [
      'AMQP form with a non-task body',
      JSON.stringify({
        properties: {},
        headers: {},
        body_base64: Buffer.from('{}').toString('base64'),
      }),
    ],
    [
      'pickle content',
      JSON.stringify({
        properties: { content_type: 'application/x-python-serialize', content_encoding: 'binary' },
        headers: { task: 'x', id: 'y' },
        body_base64: 'gAR9lC4=',
      }),
    ],
  ])('bad input (%s): exit 2 and one line on stderr', async (_name, input) => {
    const { code, out, err } = await run(input);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^celery-wire decode: \w+: /);
  });
});
