import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UnpicklingError } from '../../errors/pickle-errors';
import { PyDateTime, PyFloat, type PyValue } from '../py-values';
import { readPickle } from './pickle-reader';
import { writeGroupResultPickle, writePickle } from './pickle-writer';

interface Row {
  case: string;
  encoding: string;
  hex: string;
}
const rows = (line: string): Map<string, Buffer> => {
  const path = resolve(__dirname, '../../../protocol-fixtures/database', `rows-${line}.json`);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { cases: Row[] };
  return new Map(doc.cases.map((c) => [c.case, Buffer.from(c.hex, 'hex')]));
};

const EXPECTED: Record<string, PyValue> = {
  success_dict: { a: [1, 2], s: 'é', big: 2n ** 70n, f: 1.5, n: null, t: true },
  success_int: 5,
  failure_keyerror: { exc_type: 'KeyError', exc_message: ['nope'], exc_module: 'builtins' },
  failure_valueerror_args: {
    exc_type: 'ValueError',
    exc_message: ['bad', 3],
    exc_module: 'builtins',
  },
  success_datetime: new PyDateTime('2024-01-02T03:04:05.000006'),
  success_aware_datetime: new PyDateTime('2024-01-02T03:04:05+00:00'),
  // `result_serializer='pickle'`: the exception instance, read as Celery's exception dict.
  failure_exception_instance_pickle_serializer: {
    exc_type: 'KeyError',
    exc_message: ['nope'],
    exc_module: 'builtins',
  },
  group_two_children: [
    ['g-1', null],
    [
      [['c-1', null], null],
      [['c-2', null], null],
    ],
  ],
};

const plain = (v: PyValue): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));

describe('safe pickle reader on Celery 5.2.7 PickleType rows (protocol-fixtures/database)', () => {
  const r52 = rows('5.2');
  it.each(Object.keys(EXPECTED))('%s', (name) => {
    const bytes = r52.get(name);
    expect(bytes).toBeDefined();
    expect(plain(readPickle(bytes ?? Buffer.alloc(0)))).toEqual(plain(EXPECTED[name] ?? null));
  });

  it('writes what CPython writes for plain data and datetimes (byte-exact)', () => {
    for (const name of [
      'success_dict',
      'success_int',
      'success_datetime',
      'success_aware_datetime',
    ]) {
      expect(Buffer.from(writePickle(EXPECTED[name] ?? null)).toString('hex')).toBe(
        r52.get(name)?.toString('hex'),
      );
    }
  });

  it('reads its own GroupResult pickle back as the group tuple', () => {
    const b = writeGroupResultPickle('g-1', ['c-1', 'c-2'], {
      dburi: 'postgresql://h/db',
      expiresSeconds: 86400,
    });
    expect(plain(readPickle(b))).toEqual(plain(EXPECTED.group_two_children ?? null));
  });

  it('keeps integral floats as floats', () => {
    expect(readPickle(writePickle([new PyFloat(2)]))).toEqual([new PyFloat(2)]);
  });
});

describe('5.7 rows: the serializer, and the legacy-pickle fallback stays safe', () => {
  it('stores JSON in the result column (no pickle)', () => {
    const r57 = rows('5.7');
    expect(r57.get('success_int')?.toString()).toBe('5');
    expect(r57.get('failure_keyerror')?.[0]).toBe(0x7b);
    expect(
      plain(readPickle(r57.get('failure_exception_instance_pickle_serializer') ?? Buffer.alloc(0))),
    ).toEqual(plain(EXPECTED.failure_exception_instance_pickle_serializer ?? null));
  });
});

describe('refused input is a typed UnpicklingError naming the offender', () => {
  const fail = (hex: string): UnpicklingError => {
    try {
      readPickle(Buffer.from(hex, 'hex'), 'celery_taskmeta.result of t1');
    } catch (e) {
      expect(e).toBeInstanceOf(UnpicklingError);
      return e as UnpicklingError;
    }
    throw new Error('no error');
  };
  it('a global outside the allow list (os.system), never imported', () => {
    const e = fail('80049515000000000000008c026f73948c0673797374656d9493942e');
    expect(e.global).toBe('os.system');
    expect(e.message).toContain('celery_taskmeta.result of t1');
  });
  it('GLOBAL opcode form too (protocol 0 `cos\\nsystem\\n`)', () => {
    expect(fail(Buffer.from('cos\nsystem\n.', 'latin1').toString('hex')).global).toBe('os.system');
  });
  it('opcodes outside the data subset (BINPERSID, EXT1, NEWOBJ_EX)', () => {
    expect(fail('80054e51').opcode).toBe('BINPERSID (0x51)');
    expect(fail('80058201').opcode).toBe('EXT1 (0x82)');
    expect(fail('800592').opcode).toBe('NEWOBJ_EX (0x92)');
  });
  it('truncated data, a missing memo key, stack underflow, junk after STOP', () => {
    expect(fail('80058c05616263').message).toMatch(/truncated/);
    expect(fail('80056805').message).toMatch(/memo key 5/);
    expect(fail('800573').message).toMatch(/underflow/);
    expect(fail('80054b014b022e').message).toMatch(/left on the stack/);
  });
  it('a REDUCE of an exception class keeps only data', () => {
    const b = Buffer.from(
      '80058c086275696c74696e73948c0a56616c75654572726f7294939468007d94b52e',
      'hex',
    );
    // BUILD with a non-dict state after a bare global: refused, not applied
    expect(() => readPickle(b)).toThrow(UnpicklingError);
  });
});
