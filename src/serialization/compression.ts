/**
 * kombu's body compression (`kombu/compression.py`). The MIME type is what goes on the wire, in
 * the `compression` header; aliases are accepted wherever kombu accepts them (`get_encoder`,
 * `get_decoder`).
 */
import { brotliCompressSync, brotliDecompressSync, deflateSync, inflateSync } from 'node:zlib';
import { decode as bunzip } from 'seek-bzip';
import { DecodeError, EncodeError, SerializerNotInstalledError } from '../errors/errors';

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
  decode?: (b: Uint8Array) => Uint8Array;
  missing?: string;
}

const CODECS: Readonly<Record<string, Codec>> = {
  // `zlib.compress`: an RFC 1950 zlib stream (78 9c), not a gzip file, despite the MIME type.
  // Node's zlib (1.3.x, Chromium fork) emits a valid stream that differs byte-wise from CPython's
  // zlib 1.2.13 at level 6, so compressed bytes compare semantically.
  'application/x-gzip': { encode: (b) => deflateSync(b), decode: (b) => inflateSync(b) },
  'application/x-bz2': {
    decode: (b) => bunzip(b),
    missing: 'bzip2 compression is not available in celery-wire (decompression is)',
  },
  'application/x-brotli': {
    encode: (b) => brotliCompressSync(b),
    decode: (b) => brotliDecompressSync(b),
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

/** `kombu.compression.decompress`: `mimeType` may also be an alias, as in kombu. */
export function decompress(body: Uint8Array, mimeType: string): Uint8Array {
  const { mime, codec } = codecFor(mimeType);
  if (codec.decode === undefined) {
    throw new SerializerNotInstalledError(codec.missing ?? `cannot decompress ${mime}`);
  }
  try {
    return codec.decode(body);
  } catch (e) {
    throw new DecodeError(`${mime} decompression failed`, { cause: e });
  }
}
