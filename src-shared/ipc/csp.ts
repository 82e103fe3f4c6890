/**
 * The Content-Security-Policy of the renderer, one definition for both shells
 * (Electron's custom protocol and the browser host's HTTP header).
 *
 * - Only our own bundled files run; nothing remote (no CDN, no fonts from the web).
 * - 'wasm-unsafe-eval' lets WebAssembly (itk-wasm, image codecs) compile; plain eval stays off.
 * - Inline style attributes are allowed because vtk.js and Vue set element styles.
 * - blob: workers and images for vtk.js / codecs; data: images for small icons.
 * - connect-src: our own origin plus, in the browser host, its WebSocket endpoint.
 */
export function rendererCsp(opts: { connect?: string[] } = {}): string {
  const connect = ["'self'", ...(opts.connect ?? [])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "worker-src 'self' blob:",
    "child-src 'self' blob:",
    "media-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    "manifest-src 'self'",
  ].join('; ');
}
