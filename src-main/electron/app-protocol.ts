/**
 * The `lattice://app/` protocol that serves the built renderer (out/renderer) to the
 * Electron window: only files inside that folder (no traversal, no symlinks out), each
 * response with the renderer's strict CSP. Kept free of Electron imports so it is tested
 * without the Electron binary.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { rendererCsp } from '../../src-shared/ipc/csp';
import { contentTypeOf } from '../fs/content-type';

export const APP_SCHEME = 'lattice';
export const APP_ORIGIN = `${APP_SCHEME}://app`;


function notFound(): Response {
  return new Response('not found', { status: 404, headers: { 'Content-Type': 'text/plain' } });
}

/** Answers one lattice:// request from the files in `rendererDir`. */
export async function serveAppRequest(rendererDir: string, requestUrl: string): Promise<Response> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return notFound();
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== 'app') return notFound();
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return notFound();
  }
  if (path.includes('\0') || path.includes('\\')) return notFound();
  if (path.endsWith('/')) path += 'index.html';
  const root = await realpath(rendererDir).catch(() => null);
  if (!root) return notFound();
  const file = await realpath(resolve(root, '.' + path)).catch(() => null);
  if (!file || !file.startsWith(root + sep)) return notFound();
  if (!(await stat(file)).isFile()) return notFound();
  const body = await readFile(file);
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': contentTypeOf(file),
      'Content-Security-Policy': rendererCsp(),
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
