/**
 * The bundled Node programs (out/node: the CLI, the host, the job and kernel workers) for
 * tests that run them. `npm test` builds them first; a test file calls ensureNodeBuild() so
 * that running it alone after editing a source still tests the new code.
 *
 * Test files run in parallel: a rebuild by one while another runs a program from out/node
 * would hand that program half-written files. So builds happen only when the output is older
 * than the sources, and one at a time under a lock directory that every builder (also the
 * end-to-end helpers' renderer build) takes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..');

/** Newest modification time below `path` (node_modules skipped); 0 when it does not exist. */
export function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(path)) if (e !== 'node_modules') m = Math.max(m, newest(join(path, e)));
  return m;
}

/** Runs a command in the repository; throws with its output when it fails. */
export function runInRepo(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** Runs `fn` holding the repository's build lock (out/.build.lock). */
export async function withBuildLock<T>(fn: () => T): Promise<T> {
  const lock = join(REPO, 'out', '.build.lock');
  mkdirSync(join(REPO, 'out'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A build older than 3 minutes was abandoned (killed test run).
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds out/node (scripts/build-node.mjs) when it is older than src-main or src-shared. */
export async function ensureNodeBuild(): Promise<void> {
  await withBuildLock(() => {
    const built = Math.min(newest(join(REPO, 'out/node/host.js')), newest(join(REPO, 'out/node/lattice.js')));
    const src = Math.max(newest(join(REPO, 'src-main')), newest(join(REPO, 'src-shared')), newest(join(REPO, 'scripts/build-node.mjs')));
    if (built < src) runInRepo(process.execPath, [join(REPO, 'scripts/build-node.mjs')]);
  });
}
