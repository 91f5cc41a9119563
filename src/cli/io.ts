/** What a CLI command needs from the outside world, injected so commands are testable. */
export interface CliIo {
  readInput(path: string | undefined): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
}
