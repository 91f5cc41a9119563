import { bugreport } from './report';

describe('bugreport', () => {
  it("keeps Celery's `software -> celery:<version> (<codename>)` shape, naming celery-wire", () => {
    const text = bugreport({
      line: '5.7',
      transport: 'redis',
      resultBackend: 'disabled',
      changes: {},
    });
    // Celery's own t/integration test_report asserts this prefix.
    expect(text).toContain('software -> celery:5.7 (celery-wire) node:');
    expect(text).toContain('settings -> transport:redis results:disabled');
  });
});
