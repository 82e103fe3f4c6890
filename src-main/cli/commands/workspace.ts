/**
 * `lattice workspace validate <file.json>`: checks a workspace (format, fields, every
 * layer's file). Exit codes: 0 valid, 1 problems found (listed one per line on stderr),
 * 2 bad usage.
 */
import type { CommandTable } from '../command';

export const commands: CommandTable = {
  workspace: {
    summary: 'Check a workspace file (format and every layer\u2019s file)',
    usage: [
      'Usage: lattice workspace validate <workspace.json…>',
      '',
      'Checks each workspace saved by File ▸ Save workspace: its JSON and fields, and that',
      'every layer\u2019s file exists and can be read (NIfTI header; DICOM folder holds the',
      'series). Problems are listed one per line, naming the layer and the file.',
      'Exit code 0 when every workspace is valid, 1 when one has problems, 2 for bad usage.',
    ].join('\n'),
    async run(args, io) {
      const [sub, ...files] = args;
      if (sub !== 'validate' || !files.length) {
        io.err(sub && sub !== 'validate' ? `lattice workspace: unknown subcommand '${sub}' (only: validate)` : 'lattice workspace: give a workspace file: lattice workspace validate FILE.json');
        return 2;
      }
      const { validateWorkspaceFile } = await import('../../workspace/validate');
      let bad = 0;
      for (const f of files) {
        const r = await validateWorkspaceFile(f);
        for (const p of r.problems) io.err(p);
        if (r.problems.length) bad++;
        if (r.workspace) io.out(`${r.path}: ${r.workspace.layers.length} layers, ${r.ok} found${r.problems.length ? `, ${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}` : ' — valid'}`);
        else io.out(`${r.path}: invalid`);
      }
      return bad ? 1 : 0;
    },
  },
};
