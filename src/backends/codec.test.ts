import { deflateSync } from 'node:zlib';
import { MessageTooLargeError } from '../errors/errors';
import { decodeMeta, encodeDocument, jsonDialectOf, maybeDecompress } from './codec';
import { DisabledBackend } from './disabled-backend';
import { PyDateTime } from '../serialization/py-values';

const text = (u: Uint8Array): string => Buffer.from(u).toString('utf8');

describe('result document codec', () => {
  it('decodes documents and rebuilds exceptions for exception states', () => {
    const body = Buffer.from(
      '{"status": "FAILURE", "result": {"exc_type": "KeyError", "exc_message": ["k"], "exc_module": "builtins"}, "traceback": "tb", "children": [], "date_done": "2026-01-02T03:04:05.678901", "task_id": "x"}',
    );
    const m = decodeMeta(body, 'json', ['json']);
    expect(m).toMatchObject({ status: 'FAILURE', traceback: 'tb', taskId: 'x' });
    expect(m.error).toMatchObject({ excType: 'KeyError', args: ['k'] });
    expect(() => decodeMeta(body, 'json', ['msgpack'])).toThrow(/Refusing/);
  });

  it('reads Celery 5.7 compressed payloads (decompress_payload)', () => {
    const doc = Buffer.from('{"status": "SUCCESS", "result": 1}');
    const payload = Buffer.concat([
      Buffer.from('\x00celery-compressed\x00application/x-gzip\x00'),
      deflateSync(doc),
    ]);
    expect(text(maybeDecompress(payload))).toBe(text(doc));
    expect(decodeMeta(payload, 'json', ['json']).result).toBe(1);
    expect(maybeDecompress(doc)).toBe(doc);
  });

  it('uses the kombu JSON dialect of the Celery line', () => {
    const v = { d: new PyDateTime('2026-01-02T03:04:05') };
    expect(jsonDialectOf('celery-5.2')).toBe('kombu-legacy');
    expect(text(encodeDocument(v, 'json', 'celery-5.2'))).toBe('{"d": "2026-01-02T03:04:05"}');
    expect(text(encodeDocument(v, 'json', 'celery-5.7'))).toContain('"__type__": "datetime"');
  });
});

describe('DisabledBackend', () => {
  it('ignores stores and refuses waits like Celery', async () => {
    const b = new DisabledBackend();
    await expect(b.storeResult('x', 1, 'SUCCESS')).resolves.toBeUndefined();
    await expect(b.waitForResult('x')).rejects.toThrow('No result backend is configured.');
    await expect(b.getTaskMeta('x')).rejects.toMatchObject({ name: 'BackendError' });
  });
});

describe('result size caps (resultMaxSize, messageMaxDecompressedSize)', () => {
  const doc = Buffer.from(
    `{"status": "SUCCESS", "result": "${'x'.repeat(100_000)}", "traceback": null, "children": [], "date_done": null, "task_id": "x"}`,
  );
  const compressed = Buffer.concat([
    Buffer.from('\x00celery-compressed\x00application/x-gzip\x00'),
    deflateSync(doc),
  ]);

  it('refuses a stored document over maxResultSize with MessageTooLargeError', () => {
    expect(() => decodeMeta(doc, 'json', ['json'], { maxResultSize: 50_000 })).toThrow(
      MessageTooLargeError,
    );
    expect(decodeMeta(doc, 'json', ['json'], { maxResultSize: doc.length }).status).toBe('SUCCESS');
  });

  it('stops decompressing a compressed document at its cap', () => {
    expect(compressed.length).toBeLessThan(50_000);
    expect(() => decodeMeta(compressed, 'json', ['json'], { maxResultSize: 50_000 })).toThrow(
      MessageTooLargeError,
    );
    expect(decodeMeta(compressed, 'json', ['json'], { maxDecompressedSize: 200_000 }).status).toBe(
      'SUCCESS',
    );
  });
});
