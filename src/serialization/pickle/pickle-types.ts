/**
 * The non-container types the safe pickle reader/writer handle, in CPython's pickle layout
 * (`Lib/_pydatetime.py`, `datetime._getstate`: year hi/lo, month (+128 for fold), day, hour,
 * minute, second, microsecond as 3 big-endian bytes).
 */

/**
 * Exception classes the reader turns into Celery's exception dict. Celery stores an exception
 * *instance* in the pickled `result` column when `result_serializer` is `pickle`
 * (`prepare_exception` → `get_pickleable_exception`); it is recorded by name, never imported.
 * Accepted: `builtins` names ending in Error/Exception/Warning/Exit/Interrupt/Iteration, the
 * Celery/billiard exception modules, and any module's class named like an exception.
 */
const EXC_NAME =
  /^[A-Za-z_][A-Za-z0-9_]*(Error|Exception|Warning|Exit|Interrupt|Iteration|Exceeded)$/;
const CELERY_EXC_MODULES = new Set([
  'celery.exceptions',
  'billiard.exceptions',
  'kombu.exceptions',
  'celery.backends.base',
]);
const CELERY_EXC_NAMES = new Set(['Retry', 'Ignore', 'Reject', 'Terminated', 'ChordError']);
const MODULE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function isAllowedException(module: string, name: string): boolean {
  if (!MODULE.test(module)) return false;
  if (EXC_NAME.test(name)) return true;
  return CELERY_EXC_MODULES.has(module) && CELERY_EXC_NAMES.has(name);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function offsetText(seconds: number | null): string {
  if (seconds === null) return '';
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  return `${sign}${pad(h)}:${pad(m)}${s ? `:${pad(Math.floor(s))}` : ''}`;
}

function timeText(h: number, mi: number, s: number, us: number): string {
  return `${pad(h)}:${pad(mi)}:${pad(s)}${us ? `.${pad(us, 6)}` : ''}`;
}

/** `datetime.isoformat()` of a pickled datetime state (10 bytes) and tz offset. */
export function pyDateTimeIso(
  b: Uint8Array,
  offsetSeconds: number | null,
  fail: (m: string) => never,
): string {
  if (b.length !== 10) fail('datetime state is not 10 bytes');
  const [yhi = 0, ylo = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, u1 = 0, u2 = 0, u3 = 0] = b;
  const month = mo & 0x7f;
  const us = (u1 << 16) | (u2 << 8) | u3;
  if (month < 1 || month > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || us > 999_999)
    fail('datetime state out of range');
  const date = `${pad(yhi * 256 + ylo, 4)}-${pad(month)}-${pad(d)}`;
  return `${date}T${timeText(h, mi, s, us)}${offsetText(offsetSeconds)}`;
}

/** `date.isoformat()` of a pickled date state (4 bytes). */
export function pyDateIso(b: Uint8Array, fail: (m: string) => never): string {
  if (b.length !== 4) fail('date state is not 4 bytes');
  const [yhi = 0, ylo = 0, mo = 0, d = 0] = b;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) fail('date state out of range');
  return `${pad(yhi * 256 + ylo, 4)}-${pad(mo)}-${pad(d)}`;
}

/** `time.isoformat()` of a pickled time state (6 bytes). */
export function pyTimeIso(
  b: Uint8Array,
  offsetSeconds: number | null,
  fail: (m: string) => never,
): string {
  if (b.length !== 6) fail('time state is not 6 bytes');
  const [h0 = 0, mi = 0, s = 0, u1 = 0, u2 = 0, u3 = 0] = b;
  const h = h0 & 0x7f;
  const us = (u1 << 16) | (u2 << 8) | u3;
  if (h > 23 || mi > 59 || s > 59 || us > 999_999) fail('time state out of range');
  return `${timeText(h, mi, s, us)}${offsetText(offsetSeconds)}`;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** The pickled state of a `datetime` from its ISO text, and its UTC offset in seconds or null. */
export function dateTimeState(iso: string): { state: Uint8Array; offset: number | null } {
  const m = ISO.exec(iso);
  if (!m) throw new RangeError(`not an ISO datetime: ${iso}`);
  const n = (i: number): number => Number(m[i] ?? 0);
  const year = n(1);
  const us = Number(((m[7] ?? '') + '000000').slice(0, 6));
  const state = Uint8Array.from([
    year >> 8,
    year & 0xff,
    n(2),
    n(3),
    n(4),
    n(5),
    n(6),
    (us >> 16) & 0xff,
    (us >> 8) & 0xff,
    us & 0xff,
  ]);
  const z = m[8];
  if (z === undefined) return { state, offset: null };
  if (z === 'Z') return { state, offset: 0 };
  const sign = z.startsWith('-') ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return {
    state,
    offset: sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60),
  };
}
