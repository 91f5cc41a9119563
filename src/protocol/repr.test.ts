import { PyDate, PyDateTime, PyDecimal, PyFloat, PyTime, PyUUID } from '../serialization/py-values';
import { PyTupleView, pyRepr, type ReprValue } from './repr';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

// Expected strings printed by CPython 3.11.7 `repr()` for the same values.
const cases: [ReprValue, string][] = [
  ['plain', "'plain'"],
  ["it's", '"it\'s"'],
  ['say "hi"', `'say "hi"'`],
  [`both ' and "`, `'both \\' and "'`],
  ['tab\tnl\ncr\r\\', "'tab\\tnl\\ncr\\r\\\\'"],
  ['\x00\x7f\x9f', "'\\x00\\x7f\\x9f'"],
  ['é✓😀', "'é✓😀'"],
  ['\u200b\u2028\xa0', "'\\u200b\\u2028\\xa0'"],
  [b('ab\x00\xff"'), `b'ab\\x00\\xff"'`],
  [b("'"), `b"'"`],
  [
    new PyDateTime('2024-01-02T03:04:05.678901+00:00'),
    'datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)',
  ],
  [new PyDateTime('2024-01-02T03:04:00'), 'datetime.datetime(2024, 1, 2, 3, 4)'],
  [
    new PyDateTime('2024-01-02T00:00:00-05:00'),
    'datetime.datetime(2024, 1, 2, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))',
  ],
  [
    new PyDateTime('2024-01-02T03:04:05+05:30'),
    'datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))',
  ],
  [new PyDate('2024-01-02'), 'datetime.date(2024, 1, 2)'],
  [new PyTime('03:04:00'), 'datetime.time(3, 4)'],
  [new PyTime('03:04:05.000006'), 'datetime.time(3, 4, 5, 6)'],
  [new PyDecimal('1.50'), "Decimal('1.50')"],
  [new PyUUID('12345678123456781234567812345678'), "UUID('12345678-1234-5678-1234-567812345678')"],
  [new PyTupleView([1]), '(1,)'],
  [new PyTupleView([]), '()'],
  [[1, new PyTupleView([2, 3])] as unknown as ReprValue, '[1, (2, 3)]'],
  [
    { a: [null, true, new PyFloat(1), new PyFloat(1e16), 2n ** 70n] },
    "{'a': [None, True, 1.0, 1e+16, 1180591620717411303424]}",
  ],
];

describe('pyRepr (CPython repr)', () => {
  it.each(cases)('%p', (value, expected) => {
    expect(pyRepr(value)).toBe(expected);
  });
});
