/**
 * Installs our field-table decoder ({@link decodeFields}) into amqplib, explicitly and checked.
 *
 * Why a patch: amqplib 2.3.1 `lib/codec.js` `decodeFields` throws `Unexpected type tag "L"` on
 * py-amqp's 64-bit integers (and rounds `l` beyond 2^53, reads `D` unsigned, lacks `U`); a throw
 * there is a frame error that drops the whole connection. `lib/defs.js` copies
 * `codec.decodeFields` into a module-level variable when it loads, so the replacement must be
 * made on the codec module *before* `lib/defs.js` is first required — this module is imported
 * ahead of `amqplib` by `connection.ts`. Afterwards a self-test decodes a content-header frame
 * holding an `L` value through `defs.decode` and checks that it comes back exact; if it does not
 * (another amqplib version, or amqplib loaded earlier by someone else) {@link assertCodecPatched}
 * throws {@link AmqpCodecPatchError} when an AMQP broker is created. Nothing is caught and dropped.
 */
import { dirname, join } from 'node:path';
import { AmqpCodecPatchError } from './errors';
import { decodeFields } from './field-codec';

/** amqplib versions whose `lib/codec.js` / `lib/defs.js` shape this patch was checked against. */
export const PATCHED_AMQPLIB_VERSIONS: readonly string[] = ['2.3.1'];

export interface CodecPatchState {
  readonly amqplibVersion: string;
  readonly applied: boolean;
  /** Why the patch is not in effect. */
  readonly problem?: string;
}

interface CodecModule {
  decodeFields?: unknown;
  __celeryWirePatched?: string;
}
interface DefsModule {
  decode?: (id: number, buf: Buffer) => { headers?: Record<string, unknown> };
}

/** A basic.properties payload (class 60) with only headers = {probe: L 2^53+1}. */
function probeFrame(): Buffer {
  const key = Buffer.from('probe');
  const table = Buffer.alloc(1 + key.length + 1 + 8);
  table.writeUInt8(key.length, 0);
  key.copy(table, 1);
  table.write('L', 1 + key.length, 'latin1');
  table.writeBigInt64BE(2n ** 53n + 1n, 2 + key.length);
  const out = Buffer.alloc(2 + 4 + table.length);
  out.writeUInt16BE(0x2000, 0); // property flags: headers present
  out.writeUInt32BE(table.length, 2);
  table.copy(out, 6);
  return out;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the patch targets amqplib's CommonJS
   internals by absolute path (its `exports` map hides `lib/`); `require` (not createRequire) so
   that jest's module registry and Node's cache both see the same module instances. */
function install(): CodecPatchState {
  let root: string;
  let version = 'unknown';
  try {
    root = dirname(require.resolve('amqplib'));
    version = (require(join(root, 'package.json')) as { version: string }).version;
  } catch (e) {
    return { amqplibVersion: version, applied: false, problem: `amqplib not found: ${String(e)}` };
  }
  const codec = require(join(root, 'lib', 'codec.js')) as CodecModule;
  if (typeof codec.decodeFields !== 'function') {
    return {
      amqplibVersion: version,
      applied: false,
      problem: 'amqplib lib/codec.js has no decodeFields: its shape changed',
    };
  }
  codec.decodeFields = decodeFields;
  codec.__celeryWirePatched = version;
  const defs = require(join(root, 'lib', 'defs.js')) as DefsModule;
  let value: unknown;
  try {
    value = defs.decode?.(60, probeFrame()).headers?.probe;
  } catch (e) {
    value = e;
  }
  if (value !== 2n ** 53n + 1n) {
    return {
      amqplibVersion: version,
      applied: false,
      problem:
        'self-test failed: amqplib lib/defs.js does not use the patched decodeFields ' +
        '(amqplib was loaded before celery-wire, or its internals changed)',
    };
  }
  return { amqplibVersion: version, applied: true };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** Applied once, at module load, before `amqplib` itself is imported. */
export const codecPatch: CodecPatchState = install();

/** Throws unless the decoder is in effect; warns (once) on an amqplib version not yet checked. */
export function assertCodecPatched(warn?: (msg: string) => void): void {
  if (!codecPatch.applied) {
    throw new AmqpCodecPatchError(
      `amqplib ${codecPatch.amqplibVersion}: field-table decoder patch not in effect: ` +
        (codecPatch.problem ?? 'unknown reason'),
    );
  }
  if (!PATCHED_AMQPLIB_VERSIONS.includes(codecPatch.amqplibVersion) && !warned) {
    warned = true;
    warn?.(
      `amqplib ${codecPatch.amqplibVersion} is not a version the field-table patch was checked ` +
        `against (${PATCHED_AMQPLIB_VERSIONS.join(', ')}); its self-test passed`,
    );
  }
}
let warned = false;
