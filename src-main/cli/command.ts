/** One verb of the `lattice` command line. */
export interface CliCommand {
  /** One line for `lattice --help`. */
  summary: string;
  /** Full usage text for `lattice <verb> --help`. */
  usage: string;
  /** Runs the verb with the arguments after it; resolves to the process exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

export type CommandTable = Record<string, CliCommand>;
