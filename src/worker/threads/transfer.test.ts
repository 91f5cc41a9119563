import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyTime,
  PyUUID,
} from '../../serialization/py-values';
import { Ignore, PythonError, Reject } from '../exceptions';
import { packError, unpackError } from './error-transfer';
import { pack, unpack, type Packed } from './transfer';

/** What `postMessage` does to a value: the structured clone algorithm. */
const across = (p: Packed): Packed => structuredClone(p);

describe('values across the thread boundary', () => {
  it('keeps every py-values wrapper, bigint, bytes and Buffer as they were', () => {
    const v = {
      f: new PyFloat(1),
      negZero: new PyFloat(-0),
      big: 2n ** 70n,
      bytes: new Uint8Array([0, 255]),
      buf: Buffer.from('hi'),
      dt: new PyDateTime('2024-01-02T03:04:05.678901+00:00'),
      naive: new PyDateTime('2024-01-02T03:04:05.000006'),
      d: new PyDate('2021-05-06'),
      t: new PyTime('10:11:12.5'),
      dec: new PyDecimal('1.10'),
      u: new PyUUID('12345678-1234-5678-1234-567812345678'),
      list: [new PyFloat(2), [new PyFloat(3)]],
      date: new Date(0),
    };
    const back = unpack(across(pack(v))) as typeof v;
    expect(back.f).toBeInstanceOf(PyFloat);
    expect(back.f.value).toBe(1);
    expect(Object.is(back.negZero.value, -0)).toBe(true);
    expect(back.big).toBe(2n ** 70n);
    expect(back.bytes).toEqual(new Uint8Array([0, 255]));
    expect(Buffer.isBuffer(back.buf)).toBe(true);
    expect(back.buf.toString()).toBe('hi');
    expect(back.dt).toBeInstanceOf(PyDateTime);
    expect(back.dt.iso).toBe('2024-01-02T03:04:05.678901+00:00');
    expect(back.naive.naive).toBe(true);
    expect(back.d).toBeInstanceOf(PyDate);
    expect(back.t).toBeInstanceOf(PyTime);
    expect(back.dec).toEqual(new PyDecimal('1.10'));
    expect(back.dec).toBeInstanceOf(PyDecimal);
    expect(back.u).toBeInstanceOf(PyUUID);
    expect(back.u.toString()).toBe('12345678-1234-5678-1234-567812345678');
    expect(back.list[0]).toBeInstanceOf(PyFloat);
    expect((back.list[1] as PyFloat[])[0]).toBeInstanceOf(PyFloat);
    expect(back.date).toEqual(new Date(0));
  });

  it('does not mistake a dict shaped like a wrapper for one', () => {
    const v = { value: 1, iso: '2024-01-02', hex: 'x' };
    expect(unpack(across(pack(v)))).toEqual(v);
    const back = unpack(across(pack(v)));
    for (const W of [PyFloat, PyDateTime, PyDate, PyDecimal, PyUUID]) {
      expect(back).not.toBeInstanceOf(W);
    }
  });

  it('rebuilds a wrapper at the root and shared references', () => {
    expect(unpack(across(pack(new PyFloat(5))))).toEqual(new PyFloat(5));
    const f = new PyFloat(7);
    const back = unpack(across(pack([f, f]))) as PyFloat[];
    expect(back[0]).toBeInstanceOf(PyFloat);
    expect(back[1]).toBeInstanceOf(PyFloat);
  });

  it('leaves plain values untouched and records nothing for them', () => {
    const v = { a: [1, 'x', null, true], b: { c: 1.5 } };
    expect(pack(v).fixups).toEqual([]);
    expect(unpack(across(pack(v)))).toEqual(v);
  });

  it('survives a cyclic structure', () => {
    const a: Record<string, unknown> = { f: new PyFloat(1) };
    a.self = a;
    const back = unpack(across(pack(a))) as Record<string, unknown>;
    expect(back.f).toBeInstanceOf(PyFloat);
    expect(back.self).toBe(back);
  });
});

describe('errors across the thread boundary', () => {
  const own = (): unknown => undefined;

  it('rebuilds a PythonError with its type, module and Python args', () => {
    const e = new PythonError('KeyError', 'k', {
      excModule: 'builtins',
      args: ['k', new PyFloat(1)],
    });
    const back = unpackError(structuredClone(packError(e)), own) as PythonError;
    expect(back).toBeInstanceOf(PythonError);
    expect(back.excType).toBe('KeyError');
    expect(back.excArgs[1]).toBeInstanceOf(PyFloat);
    expect(back.stack).toBe(e.stack);
  });

  it('keeps a built-in error name, excType fields, Reject and Ignore', () => {
    const r = unpackError(structuredClone(packError(new RangeError('bad'))), own) as Error;
    expect(r.name).toBe('RangeError');
    const named = Object.assign(new Error('m'), { excType: 'proj.Custom' });
    expect(unpackError(packError(named), own)).toMatchObject({ excType: 'proj.Custom' });
    const rej = unpackError(packError(new Reject('no', true)), own);
    expect(rej).toBeInstanceOf(Reject);
    expect((rej as Reject).requeue).toBe(true);
    expect(unpackError(packError(new Ignore()), own)).toBeInstanceOf(Ignore);
    expect(unpackError(packError('plain'), own)).toBe('plain');
  });

  it('hands back the main thread object for a token', () => {
    const mine = new Error('the Retry');
    const stand = Object.assign(new Error('x'), { celeryWireToken: 9 });
    expect(unpackError(packError(stand), (t) => (t === 9 ? mine : null))).toBe(mine);
  });
});
