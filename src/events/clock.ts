/**
 * kombu's `LamportClock` (`kombu/clocks.py`): `forward()` before every event/control message
 * sent, `adjust(other)` (max + 1) on receipt of a peer's clock.
 */
export class LamportClock {
  value = 0;

  forward(): number {
    this.value += 1;
    return this.value;
  }

  adjust(other: unknown): number {
    const n = typeof other === 'number' ? other : typeof other === 'bigint' ? Number(other) : NaN;
    if (Number.isFinite(n)) this.value = Math.max(this.value, n) + 1;
    return this.value;
  }
}
