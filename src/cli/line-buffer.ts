/**
 * Log lines of one event-loop turn written to a stream in one write: a worker logs two INFO lines
 * per task ("received", "succeeded"), and stdout to a pipe or file is a synchronous write(2) per
 * call in Node, so at thousands of tasks a second the syscalls alone cost a core's tenth.
 * Lines keep their order; `flush` writes what is pending now (before stderr lines, at exit).
 */
export class LineBuffer {
  private pending = '';
  private scheduled = false;

  constructor(private readonly write: (text: string) => void) {}

  add(line: string): void {
    this.pending += line;
    if (this.scheduled) return;
    this.scheduled = true;
    hookExit(this);
    setImmediate(() => {
      this.flush();
    });
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.write(text);
    unhook.delete(this);
  }
}

/** Buffers holding lines; flushed if the process exits before their turn ends (a crash). */
const unhook = new Set<LineBuffer>();
let hooked = false;

function hookExit(b: LineBuffer): void {
  unhook.add(b);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const x of [...unhook]) x.flush();
  });
}
