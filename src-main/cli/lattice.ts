/**
 * `lattice` command line. Each group of verbs lives in its own module under commands/;
 * this file only dispatches.
 */
import { availableParallelism } from 'node:os';
import type { CliIO, CommandTable } from './command';
import { commands as dicomCommands } from './commands/dicom';
import { commands as registerCommands } from './commands/register';
import { commands as processingCommands } from './commands/processing';

// gzip and file reads run on libuv's thread pool (4 threads by default): size it to the
// machine so that .nii.gz compression uses every core. Must happen before the pool starts.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));

const table: CommandTable = { ...dicomCommands, ...processingCommands, ...registerCommands };

const io: CliIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

function help(): void {
  io.out('Usage: lattice <command> [options]\n\nCommands:');
  const width = Math.max(...Object.keys(table).map((k) => k.length));
  for (const [name, c] of Object.entries(table)) io.out(`  ${name.padEnd(width)}  ${c.summary}`);
  io.out('\nRun `lattice <command> --help` for the options of one command.');
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    help();
    return verb ? 0 : 2;
  }
  const cmd = table[verb];
  if (!cmd) {
    io.err(`lattice: unknown command '${verb}'`);
    help();
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.usage);
    return 0;
  }
  return cmd.run(rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    io.err(`lattice: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
