/** What a CLI command needs from the outside world, injected so commands are testable. */
export interface CliIo {
  readInput(path: string | undefined): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
  /**
   * End the process with `code` once its output is flushed (the real binary: `process.exit`).
   * The worker calls it after a shutdown completed, so handles the app module keeps open (a DB
   * pool, an ioredis client) cannot keep the process alive. Absent in tests: the command returns.
   */
  exit?(code: number): Promise<never>;
}
