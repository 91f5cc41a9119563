import { DecodeError, MessageTooLargeError, SerializerNotInstalledError } from '../errors/errors';
import { compress, decompress, DEFAULT_MAX_DECOMPRESSED_SIZE } from './compression';

// CPython 3.11.7: zlib.compress(b'hello world').hex() and bz2.compress(b'hello world').hex().
const PY_ZLIB = '789ccb48cdc9c95728cf2fca4901001a0b045d';
const PY_BZ2 =
  '425a683931415926535944f7137800000191804000064490802000220334843021b68154278bb9229c2848227b89bc00';
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('compression', () => {
  it.each(['zlib', 'gzip', 'application/x-gzip'])(
    '%s writes a zlib stream as application/x-gzip',
    (name) => {
      const out = compress(Buffer.from('hello world'), name);
      expect(out.mimeType).toBe('application/x-gzip');
      expect(Buffer.from(out.body.subarray(0, 2)).toString('hex')).toBe('789c');
      expect(text(decompress(out.body, 'application/x-gzip'))).toBe('hello world');
    },
  );
  it('reads Python zlib and bz2 output, by MIME type or alias', () => {
    expect(text(decompress(Buffer.from(PY_ZLIB, 'hex'), 'application/x-gzip'))).toBe('hello world');
    expect(text(decompress(Buffer.from(PY_ZLIB, 'hex'), 'zlib'))).toBe('hello world');
    expect(text(decompress(Buffer.from(PY_BZ2, 'hex'), 'application/x-bz2'))).toBe('hello world');
    expect(text(decompress(Buffer.from(PY_BZ2, 'hex'), 'bzip2'))).toBe('hello world');
  });
  it('round-trips brotli', () => {
    const out = compress(Buffer.from('hello world'), 'brotli');
    expect(out.mimeType).toBe('application/x-brotli');
    expect(text(decompress(out.body, out.mimeType))).toBe('hello world');
  });
  it('refuses what is not installed', () => {
    expect(() => compress(Buffer.from('x'), 'bzip2')).toThrow(SerializerNotInstalledError);
    expect(() => compress(Buffer.from('x'), 'lzma')).toThrow(SerializerNotInstalledError);
    expect(() => decompress(Buffer.from('x'), 'application/zstd')).toThrow(
      SerializerNotInstalledError,
    );
    expect(() => compress(Buffer.from('x'), 'snappy')).toThrow(SerializerNotInstalledError);
  });
  it('reports corrupt input as DecodeError', () => {
    expect(() => decompress(Buffer.from('nope'), 'application/x-gzip')).toThrow(DecodeError);
    expect(() => decompress(Buffer.from('nope'), 'application/x-bz2')).toThrow(DecodeError);
  });
});

describe('decompression size cap (messageMaxDecompressedSize)', () => {
  // 1 MB of zeros: ~1 KB compressed, a miniature decompression bomb.
  const zeros = new Uint8Array(1_000_000);
  // `bz2.compress(b'\0' * 1000000)` (CPython): celery-wire cannot write bzip2.
  const bz2 = Buffer.from(
    'QlpoOTFBWSZTWXnTnkgAB6jAQMAAAAIACCAAMMwJqmmVJDapSQ8XckU4UJB5055I',
    'base64',
  );
  const bodies: [string, Uint8Array][] = [
    ['application/x-gzip', compress(zeros, 'zlib').body],
    ['application/x-brotli', compress(zeros, 'brotli').body],
    ['application/x-bz2', bz2],
  ];

  it.each(bodies)('%s: stops at the cap with a typed error, not a DecodeError', (mime, body) => {
    let err: unknown;
    try {
      decompress(body, mime, { maxOutputLength: 64 * 1024 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MessageTooLargeError);
    expect(err).not.toBeInstanceOf(DecodeError);
    expect((err as MessageTooLargeError).limit).toBe(64 * 1024);
    expect((err as MessageTooLargeError).what).toBe('decompressed body');
  });

  it.each(bodies)('%s: output up to the cap decompresses', (mime, body) => {
    const out = decompress(body, mime, { maxOutputLength: 1_000_000 });
    expect(Buffer.from(out).equals(Buffer.from(zeros))).toBe(true);
    expect(decompress(body, mime).length).toBe(1_000_000);
  });

  it('has a generous default cap', () => {
    expect(DEFAULT_MAX_DECOMPRESSED_SIZE).toBe(256 * 1024 * 1024);
  });
});
