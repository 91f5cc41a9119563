import { anonNodename, workerNodename } from './hostname';

describe('node names', () => {
  it('formats the anonymous client node name like Celery', () => {
    expect(anonNodename(4242, 'box.example.com')).toBe('gen4242@box.example.com');
  });
  it('expands %h, %n and %d', () => {
    expect(workerNodename('w1@%h', 'box.example.com')).toBe('w1@box.example.com');
    expect(workerNodename('%n-w@%d', 'box.example.com')).toBe('box-w@example.com');
  });
  it('appends the host to a bare name', () => {
    expect(workerNodename('ts', 'box')).toBe('ts@box');
  });
});
