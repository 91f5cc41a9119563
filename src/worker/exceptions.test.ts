import { PythonError, Retry } from './exceptions';

describe('Retry (celery/exceptions.py, Retry.__str__)', () => {
  it('says when, then the exception given to retry() as safe_repr shows it', () => {
    expect(new Retry(null, 0.1).message).toBe('Retry in 0.1s');
    expect(new Retry(new PythonError('ExpectedException', '', { args: [] }), 5).message).toBe(
      'Retry in 5s: ExpectedException()',
    );
    expect(new Retry(new PythonError('ValueError', 'boom'), 1).message).toBe(
      "Retry in 1s: ValueError('boom')",
    );
    expect(new Retry('custom text', 2).message).toBe('Retry in 2s: custom text');
  });

  it('an eta is written as str(datetime)', () => {
    expect(new Retry(null, new Date('2026-01-02T03:04:05.678Z')).message).toBe(
      'Retry at 2026-01-02 03:04:05.678000+00:00',
    );
    expect(new Retry(null, new Date('2026-01-02T03:04:05Z')).message).toBe(
      'Retry at 2026-01-02 03:04:05+00:00',
    );
  });
});
