import { TickBatch } from './tick-batch';

describe('TickBatch', () => {
  it('hands the calls of one turn to run together, in call order', async () => {
    const runs: number[][] = [];
    const b = new TickBatch<number>((xs) => {
      runs.push(xs);
      return Promise.resolve();
    });
    await Promise.all([b.add(1), b.add(2), b.add(3)]);
    await b.add(4);
    await b.add(5);
    expect(runs).toEqual([[1, 2, 3], [4], [5]]);
  });

  it('rejects every caller of a failed batch, and only those', async () => {
    let fail = true;
    const b = new TickBatch<string>(() =>
      fail ? Promise.reject(new Error('down')) : Promise.resolve(),
    );
    const first = [b.add('a'), b.add('b')];
    await expect(first[0]).rejects.toThrow('down');
    await expect(first[1]).rejects.toThrow('down');
    fail = false;
    await expect(b.add('c')).resolves.toBeUndefined();
  });

  it('a run that throws synchronously rejects its batch', async () => {
    const b = new TickBatch<number>(() => {
      throw new Error('sync');
    });
    await expect(b.add(1)).rejects.toThrow('sync');
  });
});
