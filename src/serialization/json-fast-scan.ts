/**
 * Decides whether the native `JSON.parse` reads a text exactly as CPython's `json.loads` plus
 * kombu's `object_hook` do (`kombu/utils/json.py, loads`). It does unless the text holds:
 * - a number the value model keeps apart: an integral float literal (`1.0`, `1e3`, and any
 *   literal with an exponent, conservatively) which must become `PyFloat`, an int of 16+ digits
 *   (maybe beyond 2^53, must become `bigint`), or `-0` (Python's int 0);
 * - a `NaN`/`Infinity`/`-Infinity` token (CPython extensions `JSON.parse` rejects);
 * - a `"__type__"` key (a kombu ≥5.3 envelope to revive), including one spelled with escapes.
 * Strings are skipped whole, so digits inside them (base64 bodies, UUIDs) cost nothing.
 * Malformed text answers either way: `JSON.parse` throws, and the caller then runs the exact
 * parser, which reports the error the way CPython does.
 */

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Index of the quote closing the string opened at `open`, or -1. */
function stringEnd(t: string, open: number): number {
  let j = t.indexOf('"', open + 1);
  while (j > 0) {
    let k = j - 1;
    while (t.charCodeAt(k) === 0x5c) k--;
    // An even run of backslashes before the quote escapes only themselves.
    if ((j - 1 - k) % 2 === 0) return j;
    j = t.indexOf('"', j + 1);
  }
  return -1;
}

/** True when the string body `t[from, to)` contains a backslash. */
function hasEscape(t: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (t.charCodeAt(i) === 0x5c) return true;
  return false;
}

/** Index just past the number starting at `i`, or -1 when `JSON.parse` would read it inexactly. */
function numberEnd(t: string, i: number): number {
  let p = i;
  const negative = t.charCodeAt(p) === 0x2d;
  if (negative) p++;
  const intStart = p;
  while (isDigit(t.charCodeAt(p))) p++;
  const intDigits = p - intStart;
  // `-Infinity` (or garbage), and ints that may not fit a double exactly.
  if (intDigits === 0 || intDigits >= 16) return -1;
  let c = t.charCodeAt(p);
  if (c === 0x2e) {
    p++;
    let nonZero = false;
    while (isDigit((c = t.charCodeAt(p)))) {
      if (c !== 0x30) nonZero = true;
      p++;
    }
    if (!nonZero) return -1;
    // Beyond 15 significant digits a fraction can round away (`1.0000000000000001` is 1.0).
    if (p - intStart > 16 && Number.isInteger(Number(t.slice(i, p)))) return -1;
  } else if (negative && intDigits === 1 && t.charCodeAt(intStart) === 0x30) {
    return -1;
  }
  if (c === 0x65 || c === 0x45) return -1;
  return p;
}

/**
 * The same test as one irregexp pass (several times faster than the loop below on typical
 * messages): the text is a sequence of plain characters, strings that are not `"__type__"` and
 * hold no escape spelling one of its letters (`\u005f`, `\u0074`, …), and numbers without an
 * exponent, with a non-zero fractional digit if any, at most 15 digit/dot characters and not `-0`.
 */
const SAFE_FOR_NATIVE =
  /^(?:[^"\-\dNI]|"(?!__type__")[^"\\]*(?:\\(?!u00(?:5[fF]|7[049]|65))[^][^"\\]*)*"|(?:-(?!0(?![.\d])))?(?![\d.]{16})(?:0|[1-9]\d*)(?:\.\d*[1-9]\d*)?(?![\d.eE]))*$/;

/** Above this size the regex would exhaust irregexp's backtrack stack; the loop scans instead. */
const REGEX_MAX_LENGTH = 1 << 16;

/** True when `text` must go through the exact parser (see the module comment). */
export function needsExactParser(t: string): boolean {
  return t.length <= REGEX_MAX_LENGTH ? !SAFE_FOR_NATIVE.test(t) : scanNeedsExactParser(t);
}

/** {@link needsExactParser} as a character loop, for texts of any size. */
export function scanNeedsExactParser(t: string): boolean {
  const n = t.length;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x22) {
      const j = stringEnd(t, i);
      if (j < 0) return true;
      const len = j - i - 1;
      if (len === 8 && t.startsWith('__type__', i + 1)) return true;
      // `\u005f_type__` and the like: at most 6 characters per escaped character.
      if (len > 8 && len <= 48 && hasEscape(t, i + 1, j)) return true;
      i = j;
    } else if (c === 0x2d || isDigit(c)) {
      const end = numberEnd(t, i);
      if (end < 0) return true;
      i = end - 1;
    } else if (c === 0x4e || c === 0x49) {
      return true;
    }
  }
  return false;
}
