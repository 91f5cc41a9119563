/**
 * Golden-fixture access for tests: list cases from `protocol-fixtures/manifest.json`, load one
 * case losslessly with `pyJsonLoads`, and base64 helpers. See `protocol-fixtures/README.md`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pyJsonLoads } from '../../src/serialization/python-json';
import type { PyValue } from '../../src/serialization/py-values';
import { isPyDict } from '../../src/serialization/py-values';

/** Absolute path of the fixtures folder. */
export const FIXTURES_DIR = resolve(__dirname, '..', '..', 'protocol-fixtures');

/** One fixture file, parsed. */
export interface FixtureCase {
  /** Path relative to {@link FIXTURES_DIR}, e.g. `celery-5.7/value/json-none.json`. */
  file: string;
  /** Celery line, e.g. `5.7`. */
  line: string;
  meta: {
    kind: string;
    case: string;
    celery: string;
    kombu: string;
    compare: 'bytes' | 'semantic' | 'none-published';
    notes?: string;
  } & Record<string, PyValue>;
  input: Record<string, PyValue>;
  expected: Record<string, PyValue>;
}

interface Manifest {
  lines: Record<string, { files: string[] }>;
}

function readManifest(): Manifest {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'manifest.json'), 'utf8')) as Manifest;
}

/** Celery lines present in the manifest (`['5.2', '5.7']`). */
export function fixtureLines(): string[] {
  return Object.keys(readManifest().lines).sort();
}

/** Relative paths of every case, optionally of one kind (`value`, `task`, …) and/or line. */
export function listFixtures(kind?: string, line?: string): { line: string; file: string }[] {
  const out: { line: string; file: string }[] = [];
  for (const [l, entry] of Object.entries(readManifest().lines)) {
    if (line !== undefined && l !== line) continue;
    for (const file of entry.files) {
      if (kind === undefined || file.split('/')[1] === kind) out.push({ line: l, file });
    }
  }
  return out;
}

/** Load and parse one case file (`__type__` values revived into py-values). */
export function loadFixture(file: string, line?: string): FixtureCase {
  const doc = pyJsonLoads(readFileSync(join(FIXTURES_DIR, file), 'utf8'));
  if (!isPyDict(doc) || !isPyDict(doc.meta) || !isPyDict(doc.input) || !isPyDict(doc.expected)) {
    throw new Error(`${file}: not a fixture document`);
  }
  return {
    file,
    line: line ?? /^celery-([^/]+)\//.exec(file)?.[1] ?? '',
    meta: doc.meta as FixtureCase['meta'],
    input: doc.input,
    expected: doc.expected,
  };
}

/** Decode standard base64 (with padding) to bytes. */
export function fromB64(s: string): Buffer {
  return Buffer.from(s, 'base64');
}

/** Encode bytes as standard base64 with padding. */
export function toB64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** kombu < 5.3 wrote plain strings instead of `__type__` envelopes. */
export function isLegacyKombu(kombuVersion: string): boolean {
  const [major = 0, minor = 0] = kombuVersion.split('.').map(Number);
  return major < 5 || (major === 5 && minor < 3);
}

/** The JSON dialect of the kombu that wrote a fixture: tagged from kombu 5.3, plain before. */
export function fixtureDialect(fx: FixtureCase): 'kombu-legacy' | 'kombu-5.3' {
  return isLegacyKombu(fx.meta.kombu) ? 'kombu-legacy' : 'kombu-5.3';
}
