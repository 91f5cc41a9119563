// Minimal typings for seek-bzip 2.x (pure-JS bzip2 decoder; ships no .d.ts of its own).
declare module 'seek-bzip' {
  /** An output stream: `decode` calls `writeByte` per byte and returns `getBuffer()`. */
  export interface OutputStream {
    writeByte(byte: number): void;
    getBuffer(): Uint8Array;
  }
  /** Decode a whole `.bz2` stream (all concatenated streams). */
  export function decode(input: Uint8Array, output?: Uint8Array | OutputStream): Buffer;
}
