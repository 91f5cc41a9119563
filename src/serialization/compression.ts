/**
 * kombu's body compression (`kombu/compression.py`). The MIME type is what goes on the wire, in
 * the `compression` header; aliases are accepted wherever kombu accepts them (`get_encoder`,
 * `get_decoder`).
 */
import { brotliCompressSync, brotliDecompressSync, deflateSync, inflateSync } from 'node:zlib';
import { decode as bunzip } from 'seek-bzip';
import {
  DecodeError,
  EncodeError,
  MessageTooLargeError,
  SerializerNotInstalledError,
} from '../errors/errors';

/**
 * Default cap on a decompressed body (256 MiB): a few KB of zlib can inflate to gigabytes, and
 * the worker is one process. kombu has no cap; `messageMaxDecompressedSize` configures this one.
 */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 256 * 1024 * 1024;

/** kombu/compression.py, register(...) calls: alias → MIME type. */
export const COMPRESSION_ALIASES: Readonly<Record<string, string>> = {
  zlib: 'application/x-gzip',
  gzip: 'application/x-gzip',
  bzip2: 'application/x-bz2',
  bzip: 'application/x-bz2',
  brotli: 'application/x-brotli',
  lzma: 'application/x-lzma',
  xz: 'application/x-lzma',
  zstd: 'application/zstd',
  zstandard: 'application/zstd',
};

interface Codec {
  encode?: (b: Uint8Array) => Uint8Array;
  /** Decodes at most `max` bytes of output, else throws (zlib: `ERR_BUFFER_TOO_LARGE`). */
  decode?: (b: Uint8Array, max: number) => Uint8Array;
  missing?: string;
}

/** seek-bzip with an output stream that stops at `max` bytes instead of growing without bound. */
function bunzipCapped(input: Uint8Array, max: number): Uint8Array {
  let buf = Buffer.allocUnsafe(Math.min(64 * 1024, max + 1));
  let pos = 0;
  return bunzip(input, {
    writeByte(byte: number): void {
      if (pos >= max) throw new MessageTooLargeError('decompressed body', max);
      if (pos >= buf.length) {
        const next = Buffer.allocUnsafe(Math.min(buf.length * 2, max + 1));
        buf.copy(next);
        buf = next;
      }
      buf[pos++] = byte;
    },
    getBuffer: () => buf.subarray(0, pos),
  });
}

const CODECS: Readonly<Record<string, Codec>> = {
  // `zlib.compress`: an RFC 1950 zlib stream (78 9c), not a gzip file, despite the MIME type.
  // Node's zlib (1.3.x, Chromium fork) emits a valid stream that differs byte-wise from CPython's
  // zlib 1.2.13 at level 6, so compressed bytes compare semantically.
  'application/x-gzip': {
    encode: (b) => deflateSync(b),
    decode: (b, max) => inflateSync(b, { maxOutputLength: max }),
  },
  'application/x-bz2': {
    decode: bunzipCapped,
    missing: 'bzip2 compression is not available in celery-wire (decompression is)',
  },
  'application/x-brotli': {
    encode: (b) => brotliCompressSync(b),
    decode: (b, max) => brotliDecompressSync(b, { maxOutputLength: max }),
  },
  'application/x-lzma': { missing: 'lzma/xz compression is not supported by celery-wire' },
  'application/zstd': { missing: 'zstd compression is not supported by celery-wire' },
};

function codecFor(nameOrMime: string): { mime: string; codec: Codec } {
  const mime = COMPRESSION_ALIASES[nameOrMime] ?? nameOrMime;
  const codec = CODECS[mime];
  if (codec === undefined) {
    throw new SerializerNotInstalledError(`No compression method registered for ${nameOrMime}`);
  }
  return { mime, codec };
}

/** `kombu.compression.compress`: returns the compressed body and the MIME type to put on the wire. */
export function compress(
  body: Uint8Array,
  nameOrMime: string,
): { body: Uint8Array; mimeType: string } {
  const { mime, codec } = codecFor(nameOrMime);
  if (codec.encode === undefined) {
    throw new SerializerNotInstalledError(codec.missing ?? `cannot compress with ${mime}`);
  }
  try {
    return { body: codec.encode(body), mimeType: mime };
  } catch (e) {
    throw new EncodeError(`${mime} compression failed`, { cause: e });
  }
}

/** Options of {@link decompress}. */
export interface DecompressOptions {
  /** Cap on the decompressed size in bytes (default {@link DEFAULT_MAX_DECOMPRESSED_SIZE}). */
  maxOutputLength?: number;
}

/** Node's zlib past `maxOutputLength` (a RangeError; checked by code, realms differ in tests). */
function isTooLarge(e: unknown): boolean {
  return (
    typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE'
  );
}

/**
 * `kombu.compression.decompress`: `mimeType` may also be an alias, as in kombu. Output beyond
 * `maxOutputLength` is never produced: {@link MessageTooLargeError} instead.
 */
export function decompress(
  body: Uint8Array,
  mimeType: string,
  opts: DecompressOptions = {},
): Uint8Array {
  const { mime, codec } = codecFor(mimeType);
  if (codec.decode === undefined) {
    throw new SerializerNotInstalledError(codec.missing ?? `cannot decompress ${mime}`);
  }
  const max = opts.maxOutputLength ?? DEFAULT_MAX_DECOMPRESSED_SIZE;
  try {
    return codec.decode(body, max);
  } catch (e) {
    if (e instanceof MessageTooLargeError) throw e;
    if (isTooLarge(e)) throw new MessageTooLargeError('decompressed body', max, { cause: e });
    throw new DecodeError(`${mime} decompression failed`, { cause: e });
  }
}
