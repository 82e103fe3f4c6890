/**
 * `lattice` command line. Each group of verbs lives in its own module under commands/;
 * this file only dispatches.
 */
import { availableParallelism } from 'node:os';
import type { CliCommand, CliIO, CommandTable } from './command';

// gzip and file reads run on libuv's thread pool (4 threads by default): size it to the
// machine so that .nii.gz compression uses every core. Must happen before the pool starts.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));

// Command groups load lazily, most used first: `lattice convert` then loads only the DICOM
// code, not zod, the job runner or the registration engine (~60 ms of start-up each time).
const groups: Array<() => Promise<{ commands: CommandTable }>> = [
  // info/convert of image files (any format); hands DICOM inputs on to ./commands/dicom.
  () => import('./commands/image-files'),
  () => import('./commands/dicom'),
  () => import('./commands/processing'),
  () => import('./commands/register'),
  () => import('./commands/analysis'),
  () => import('./commands/workspace'),
  () => import('./commands/segmentation'),
];

async function findCommand(verb: string): Promise<CliCommand | undefined> {
  for (const load of groups) {
    const { commands } = await load();
    if (Object.hasOwn(commands, verb)) return commands[verb];
  }
  return undefined;
}

async function allCommands(): Promise<CommandTable> {
  const table: CommandTable = {};
  // The first group naming a verb runs it (findCommand), so its summary is the one shown.
  for (const load of groups) for (const [k, c] of Object.entries((await load()).commands)) table[k] ??= c;
  return table;
}

// `lattice info … | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const io: CliIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

async function help(): Promise<void> {
  const table = await allCommands();
  io.out('Usage: lattice <command> [options]\n\nCommands:');
  const width = Math.max(...Object.keys(table).map((k) => k.length));
  for (const [name, c] of Object.entries(table)) io.out(`  ${name.padEnd(width)}  ${c.summary}`);
  io.out('\nRun `lattice <command> --help` for the options of one command.');
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    await help();
    return verb ? 0 : 2;
  }
  const cmd = await findCommand(verb);
  if (!cmd) {
    io.err(`lattice: unknown command '${verb}'`);
    await help();
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
