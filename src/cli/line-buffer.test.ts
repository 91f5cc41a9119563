import { LineBuffer } from './line-buffer';

describe('LineBuffer', () => {
  it('writes the lines of one turn in one write, in order', async () => {
    const writes: string[] = [];
    const b = new LineBuffer((t) => writes.push(t));
    b.add('a\n');
    b.add('b\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    b.add('c\n');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('flush writes what is pending now, and nothing when empty', () => {
    const writes: string[] = [];
    const b = new LineBuffer((t) => writes.push(t));
    b.flush();
    b.add('x\n');
    b.flush();
    b.flush();
    expect(writes).toEqual(['x\n']);
  });
});
