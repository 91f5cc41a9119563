import {
  mergeRows,
  parseRows,
  renderMatrix,
  rowsOf,
  type Cell,
} from '../conformance/support/matrix';

/** The README/docs matrix keeps every run's rows: a run replaces only its own (issue 9/10/13). */
const LEGACY = [
  'Last produced by `npm run conformance` on 2026-12-01 16:05 UTC. Each cell: catalogue cases passed / run.',
  '',
  '| direction | Celery | broker / backend | json v2 | json v1 | msgpack v2 | msgpack v1 | yaml v2 | yaml v1 |',
  '|---|---|---|---|---|---|---|---|---|',
  '| Node → Python | 4.4 | Redis / redis | ✅ 9/9 | ✅ 9/9 | ✅ 9/9 | ✅ 9/9 | ✅ 9/9 | ✅ 9/9 |',
  '| Python → Node | 5.6 | RabbitMQ / rpc | ✅ 9/9 | ✅ 9/9 | ✅ 9/9 | ✅ 9/9 | ✅ 9/9 | ❌ 8/9 |',
  '',
  'Failures:',
  '',
  '- Python → Node, Celery 5.6, RabbitMQ / rpc, yaml v1: `expired-before-eta`: state SUCCESS, expected REVOKED',
].join('\n');

function cell(
  o: Partial<Cell> & Pick<Cell, 'line' | 'transport' | 'serializer' | 'protocol'>,
): Cell {
  return { direction: 'Node → Python', total: 3, failures: [], notApplicable: [], ...o };
}

const ORDER = ['Redis / redis', 'RabbitMQ / rpc', 'SQS (moto) / redis'];

describe('compatibility matrix rows', () => {
  it('reads a matrix written before rows carried their run, with its failure bullets', () => {
    const rows = parseRows(LEGACY);
    expect(rows.map((r) => [r.direction, r.line, r.transport, r.run])).toEqual([
      ['Node → Python', '4.4', 'Redis / redis', '2026-12-01 16:05 UTC'],
      ['Python → Node', '5.6', 'RabbitMQ / rpc', '2026-12-01 16:05 UTC'],
    ]);
    expect(rows[1]?.cols[5]).toBe('❌ 8/9');
    expect(rows[1]?.failures).toHaveLength(1);
    expect(rows[0]?.failures).toEqual([]);
  });

  it('merges by (direction, line, transport): earlier rows stay, this run replaces its own', () => {
    const now = rowsOf(
      [
        cell({ line: '5.6', transport: 'RabbitMQ / rpc', serializer: 'yaml', protocol: 1 }),
        cell({ line: '5.7', transport: 'SQS (moto) / redis', serializer: 'json', protocol: 2 }),
      ].map((c) => (c.transport === 'RabbitMQ / rpc' ? { ...c, direction: 'Python → Node' } : c)),
      (line) => `now · celery ${line}`,
    );
    const merged = mergeRows(parseRows(LEGACY), now, ORDER);
    expect(merged.map((r) => `${r.direction} ${r.line} ${r.transport} ${r.run}`)).toEqual([
      'Node → Python 5.7 SQS (moto) / redis now · celery 5.7',
      'Node → Python 4.4 Redis / redis 2026-12-01 16:05 UTC',
      'Python → Node 5.6 RabbitMQ / rpc now · celery 5.6',
    ]);
    // The replaced row's old failure went with it.
    expect(merged.flatMap((r) => r.failures)).toEqual([]);
  });

  it('round-trips through Markdown: cells, runs, failure and n/a bullets', () => {
    const now = rowsOf(
      [
        cell({
          line: '5.2',
          transport: 'RabbitMQ / rpc',
          serializer: 'json',
          protocol: 2,
          notApplicable: [{ name: 'canvas-chord', why: 'no chords' }],
        }),
        cell({
          line: '5.2',
          transport: 'RabbitMQ / rpc',
          serializer: 'json',
          protocol: 1,
          failures: [{ name: 'add', why: 'value 4, expected 5' }],
        }),
      ],
      () => 'r1',
    );
    expect(now[0]?.cols.slice(0, 2)).toEqual(['✅ 3/3 (+1 n/a)', '❌ 2/3']);
    const rows = mergeRows(parseRows(LEGACY), now, ORDER);
    const back = parseRows(renderMatrix(rows, 'stamp'));
    expect(back).toEqual(rows);
    expect(back.find((r) => r.line === '5.2')?.notApplicable).toEqual([
      '- Node → Python, Celery 5.2, RabbitMQ / rpc: `canvas-chord` (json v2): no chords',
    ]);
  });
});
