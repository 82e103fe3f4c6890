// The Electron main process without the Electron binary (it cannot be installed here):
// 'electron' is replaced by a recording fake, then src-main/electron/main.ts is imported
// for real. Checks the window's security settings, navigation/new-window/permission/remote
// request denial, the IPC transport (trusted sender only, zod validation, binary volumes
// returned as ArrayBuffers), the native menu, and the lattice:// protocol's confinement.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Handler = (...a: unknown[]) => unknown;
const rec = vi.hoisted(() => ({
  userData: '',
  appOn: new Map<string, (...a: unknown[]) => unknown>(),
  windows: [] as { opts: Record<string, unknown>; loaded: string[]; sent: unknown[][] }[],
  ipcHandlers: new Map<string, (...a: unknown[]) => unknown>(),
  protocolHandlers: new Map<string, (req: { url: string }) => unknown>(),
  privileged: [] as unknown[],
  sandboxEnabled: false,
  permissionRequest: null as null | ((...a: unknown[]) => void),
  permissionCheck: null as null | ((...a: unknown[]) => boolean),
  beforeRequest: null as null | ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void),
  menuTemplate: null as null | { label?: string; role?: string; submenu?: { label?: string; accelerator?: string; registerAccelerator?: boolean; click?: (...a: unknown[]) => unknown }[] }[],
}));

vi.mock('electron', () => {
  class FakeWebContents {
    id = 1;
    sent: unknown[][] = [];
    mainFrame = { url: 'lattice://app/index.html' };
    send(...a: unknown[]) {
      this.sent.push(a);
    }
    once() {}
    on() {}
    isDestroyed() {
      return false;
    }
  }
  class BrowserWindow {
    webContents = new FakeWebContents();
    rec: { opts: Record<string, unknown>; loaded: string[]; sent: unknown[][] };
    constructor(opts: Record<string, unknown>) {
      this.rec = { opts, loaded: [], sent: this.webContents.sent };
      rec.windows.push(this.rec);
    }
    once() {}
    on() {}
    show() {}
    loadURL(u: string) {
      this.rec.loaded.push(u);
      return Promise.resolve();
    }
    static getFocusedWindow() {
      return null;
    }
    static getAllWindows() {
      return [];
    }
  }
  const app = {
    isPackaged: false,
    enableSandbox: () => (rec.sandboxEnabled = true),
    on: (ev: string, h: (...a: unknown[]) => unknown) => rec.appOn.set(ev, h),
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    getPath: () => rec.userData,
    getAppPath: () => process.cwd(),
    getVersion: () => '0.0.0',
    quit: () => undefined,
  };
  return {
    app,
    BrowserWindow,
    Menu: {
      buildFromTemplate: (t: typeof rec.menuTemplate) => ((rec.menuTemplate = t), { t }),
      setApplicationMenu: () => undefined,
    },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true }) },
    ipcMain: { handle: (ch: string, h: Handler) => rec.ipcHandlers.set(ch, h) },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => rec.privileged.push(...s),
      handle: (scheme: string, h: (req: { url: string }) => unknown) => rec.protocolHandlers.set(scheme, h),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: (...a: unknown[]) => void) => (rec.permissionRequest = h),
        setPermissionCheckHandler: (h: (...a: unknown[]) => boolean) => (rec.permissionCheck = h),
        webRequest: {
          onBeforeRequest: (h: typeof rec.beforeRequest) => (rec.beforeRequest = h),
          onHeadersReceived: () => undefined,
        },
      },
    },
    MessageChannelMain: class {},
    utilityProcess: { fork: () => undefined },
  };
});

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lattice-electron-test-'));
  rec.userData = join(tmp, 'userData');
  delete process.env.ELECTRON_RENDERER_URL;
  await import('../src-main/electron/main');
  // whenReady().then(async …) has awaited the recent list; give it a few turns.
  for (let i = 0; i < 20 && rec.windows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function invoke(channel: unknown, args: unknown, url = 'lattice://app/index.html', subframe = false) {
  const mainFrame = { url };
  const event = { sender: { id: 7, mainFrame, send: () => undefined, once: () => undefined, isDestroyed: () => false }, senderFrame: subframe ? { url } : mainFrame };
  return rec.ipcHandlers.get('lattice:invoke')!(event, channel, args) as Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }>;
}

describe('Electron main process', () => {
  it('creates one window with secure webPreferences and loads only our protocol', () => {
    expect(rec.sandboxEnabled).toBe(true);
    expect(rec.windows).toHaveLength(1);
    const wp = rec.windows[0]!.opts.webPreferences as Record<string, unknown>;
    expect(wp).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, navigateOnDragDrop: false });
    expect(String(wp.preload)).toMatch(/preload[\\/]preload\.(cjs|js)$/);
    expect(rec.windows[0]!.loaded).toEqual(['lattice://app/index.html']);
    expect(rec.privileged).toEqual([{ scheme: 'lattice', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  });

  it('denies navigation, redirects, webviews and new windows in every web contents', () => {
    const handlers = new Map<string, (e: { preventDefault(): void }) => void>();
    let openHandler: (() => unknown) | null = null;
    const contents = { on: (ev: string, h: (e: { preventDefault(): void }) => void) => handlers.set(ev, h), setWindowOpenHandler: (h: () => unknown) => (openHandler = h) };
    rec.appOn.get('web-contents-created')!({}, contents);
    for (const ev of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const e = { preventDefault: vi.fn() };
      handlers.get(ev)!(e);
      expect(e.preventDefault, ev).toHaveBeenCalled();
    }
    expect(openHandler!()).toEqual({ action: 'deny' });
  });

  it('refuses every permission and every request to anything but our own protocol', () => {
    const cb = vi.fn();
    rec.permissionRequest!({}, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(rec.permissionCheck!({}, 'notifications')).toBe(false);
    const decide = (url: string) => {
      let r: { cancel: boolean } | undefined;
      rec.beforeRequest!({ url }, (x) => (r = x));
      return r!.cancel;
    };
    expect(decide('lattice://app/assets/index.js')).toBe(false);
    expect(decide('https://cdn.example.com/lib.js')).toBe(true);
    expect(decide('http://127.0.0.1:8080/')).toBe(true);
    expect(decide('file:///etc/passwd')).toBe(true);
  });

  it('answers IPC from our top frame, validated by the contract', async () => {
    const info = await invoke('app.info', {});
    expect(info).toMatchObject({ ok: true, result: { transport: 'electron', nativeDialogs: true, uploadDrops: false } });
    const bad = await invoke('dicom.scan', { paths: [1] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-args', message: expect.stringMatching(/^dicom\.scan: invalid arguments: paths\[0\]: /) } });
    expect(await invoke('shell.exec', {})).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    // The native dialog (cancelled by the fake) comes back as no paths.
    expect(await invoke('dialog.open', { kind: 'dicom-folder' })).toEqual({ ok: true, result: { paths: [] } });
  });

  it('refuses IPC from any other page or from a subframe', async () => {
    expect(await invoke('app.info', {}, 'https://evil.example/')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/not from the Lattice UI/) } });
    expect(await invoke('app.info', {}, 'lattice://app/index.html', true)).toMatchObject({ ok: false });
    expect(await invoke('app.info', {}, 'file:///tmp/x.html')).toMatchObject({ ok: false });
  });

  it('returns volumes with their voxels as an ArrayBuffer (structured clone, not JSON)', async () => {
    const data = new Uint16Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const header = { name: 'v', dims: [2, 2, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], voxelType: 'uint16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {}, byteLength: 16 };
    const put = (await invoke('volume.put', { volume: { header, data: data.buffer } })) as { ok: true; result: { id: string } };
    expect(put.ok).toBe(true);
    const got = (await invoke('volume.get', { volumeId: put.result.id })) as { ok: true; result: { header: { id: string }; data: ArrayBuffer } };
    expect(got.result.data).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint16Array(got.result.data))).toEqual(Array.from(data));
  });

  it('has the native menu with the usual items and shortcuts, forwarding commands to the page', () => {
    const t = rec.menuTemplate!;
    const file = t.find((m) => m.label === '&File')!.submenu!;
    const item = (label: string) => file.find((i) => i.label === label);
    expect(item('Open DICOM Folder…')?.accelerator).toBe('CmdOrCtrl+O');
    expect(item('Open Image…')?.accelerator).toBe('CmdOrCtrl+Shift+O');
    expect(item('Open Recent')).toBeTruthy();
    expect(item('Export…')?.accelerator).toBe('CmdOrCtrl+E');
    expect(file.some((i) => (i as { role?: string }).role === 'quit' || (i as { role?: string }).role === 'close')).toBe(true);
    expect(t.map((m) => m.label)).toEqual(expect.arrayContaining(['&File', '&View', '&Tools', '&Help']));
    // Single-key tool shortcuts must not be captured from text fields.
    for (const i of t.find((m) => m.label === '&Tools')!.submenu!) expect(i.registerAccelerator).toBe(false);
    item('Export…')!.click!({}, undefined);
    expect(rec.windows[0]!.sent.at(-1)).toEqual(['lattice:event', 'app.command', { command: 'export' }]);
  });
});

describe('lattice:// protocol', () => {
  it('serves only files inside the renderer folder, with the CSP', async () => {
    const { serveAppRequest } = await import('../src-main/electron/app-protocol');
    const dir = join(tmp, 'renderer');
    await mkdir(join(dir, 'assets'), { recursive: true });
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>L</title>');
    await writeFile(join(dir, 'assets/a.js'), 'x');
    await writeFile(join(tmp, 'secret.txt'), 'SECRET');
    await symlink(join(tmp, 'secret.txt'), join(dir, 'link.txt'));
    const ok = await serveAppRequest(dir, 'lattice://app/');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<title>L</title>');
    expect(ok.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self' 'wasm-unsafe-eval'/);
    expect((await serveAppRequest(dir, 'lattice://app/assets/a.js')).headers.get('content-type')).toMatch(/javascript/);
    for (const u of ['lattice://app/../secret.txt', 'lattice://app/%2e%2e/secret.txt', 'lattice://app/assets/..%2f..%2fsecret.txt', 'lattice://app/link.txt', 'lattice://other/index.html', 'lattice://app/%00', 'lattice://app/..%5csecret.txt']) {
      const r = await serveAppRequest(dir, u);
      expect(r.status, u).toBe(404);
      expect(await r.text(), u).not.toContain('SECRET');
    }
  });
});
