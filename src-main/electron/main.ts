/**
 * The Electron main process: one window with secure defaults, the native menu, and
 * the IPC transport that plugs the shared Services (src-main/services) into ipcMain.
 *
 * Security:
 * - renderer: contextIsolation, sandbox, no nodeIntegration, no webview, a preload
 *   exposing one object (window.lattice);
 * - the UI is served from the custom `lattice://app/` protocol (out/renderer only, no
 *   traversal) with a strict CSP header; in development from electron-vite's server;
 * - every navigation, new window, permission request and request to any other origin is
 *   refused (nothing remote is ever loaded);
 * - IPC is accepted only from our own top frame, and every argument is validated with the
 *   contract's zod schemas by the Dispatcher before a service sees it.
 */
import { app, BrowserWindow, Menu, dialog, ipcMain, protocol, session, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { dirname, join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rendererCsp } from '../../src-shared/ipc/csp';
import type { AppCommand, EventName, Events, RecentEntry } from '../../src-shared/ipc/contract';
import { Services, type ClientLink } from '../services/index';
import { buildMenu, openDialogOptions } from './menu';
import { APP_ORIGIN, APP_SCHEME, serveAppRequest } from './app-protocol';

const IPC_INVOKE = 'lattice:invoke';
const IPC_EVENT = 'lattice:event';
const SCHEME = APP_SCHEME;

// electron-vite emits ESM or CJS depending on the package type; work out our folder either way.
const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '..');
const rendererDir = join(outDir, 'renderer');
const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

function preloadPath(): string {
  for (const f of ['preload.cjs', 'preload.js', 'preload.mjs', 'index.cjs', 'index.js', 'index.mjs']) {
    const p = join(outDir, 'preload', f);
    if (existsSync(p)) return p;
  }
  return join(outDir, 'preload', 'preload.js');
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(app.getAppPath(), 'package.json'), 'utf8')) as { version?: string }).version ?? app.getVersion();
  } catch {
    return app.getVersion();
  }
}

// Must happen before 'ready'.
app.enableSandbox();
protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let services: Services;
let mainWindow: BrowserWindow | undefined;
const clients = new Map<number, ClientLink>();

function clientFor(wc: WebContents): ClientLink {
  let c = clients.get(wc.id);
  if (!c) {
    const link: ClientLink = {
      id: `wc-${wc.id}`,
      emit<E extends EventName>(event: E, payload: Events[E]) {
        if (!wc.isDestroyed()) wc.send(IPC_EVENT, event, payload);
      },
    };
    c = link;
    clients.set(wc.id, link);
    wc.once('destroyed', () => {
      clients.delete(wc.id);
      services.disconnect(link);
    });
  }
  return c;
}

/** Only our own UI, in its top frame, may call the main process. */
function trustedSender(e: IpcMainInvokeEvent): boolean {
  const frame = e.senderFrame;
  if (!frame || frame !== e.sender.mainFrame) return false;
  const url = frame.url;
  return url.startsWith(`${APP_ORIGIN}/`) || (!!devUrl && url.startsWith(new URL(devUrl).origin + '/'));
}

function sendCommand(win: BrowserWindow | undefined, command: AppCommand, path?: string) {
  const target = win ?? BrowserWindow.getFocusedWindow() ?? mainWindow;
  target?.webContents.send(IPC_EVENT, 'app.command', { command, ...(path ? { path } : {}) } satisfies Events['app.command']);
}

function refreshMenu(recent: RecentEntry[]) {
  Menu.setApplicationMenu(buildMenu(recent, { command: sendCommand, clearRecent: () => void services.recent.clear() }));
}

/** Serves out/renderer under lattice://app/ with the CSP header; nothing outside it. */
function registerAppProtocol() {
  protocol.handle(SCHEME, (req) => serveAppRequest(rendererDir, req.url));
}

function lockDownSession() {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  ses.setPermissionCheckHandler(() => false);
  const devOrigin = devUrl ? new URL(devUrl).origin : null;
  const wsDevOrigin = devOrigin ? devOrigin.replace(/^http/, 'ws') : null;
  // Nothing remote: only our protocol, devtools, and (in development) the dev server.
  ses.webRequest.onBeforeRequest((details, cb) => {
    const u = details.url;
    const ok = u.startsWith(`${APP_ORIGIN}/`) || u.startsWith('devtools:') || u.startsWith('data:') || u.startsWith('blob:') || (devOrigin && (u.startsWith(devOrigin) || (wsDevOrigin && u.startsWith(wsDevOrigin))));
    cb({ cancel: !ok });
  });
  if (devOrigin) {
    // The dev server sends no CSP; add ours (plus its HMR socket).
    const csp = rendererCsp({ connect: [wsDevOrigin!] });
    ses.webRequest.onHeadersReceived((details, cb) => {
      const headers = { ...details.responseHeaders };
      if (details.url.startsWith(devOrigin)) headers['Content-Security-Policy'] = [csp];
      cb({ responseHeaders: headers });
    });
  }
}

function createWindow() {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 800,
    minHeight: 600,
    show: false,
    title: 'Lattice',
    backgroundColor: '#111318',
    webPreferences: {
      // The preload is the one bridge to the main process: it exposes only window.lattice
      // (invoke on contract channels, validated here; events; a dropped file's path), never
      // ipcRenderer itself — reviewed for Electronegativity, see test/electronegativity.test.ts.
      preload: preloadPath(), // eng-disable PRELOAD_JS_CHECK
      // Middle-click must not open links in new windows (the views use middle-drag to pan,
      // which is mousedown/move, not auxclick).
      disableBlinkFeatures: 'Auxclick',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void (devUrl ? win.loadURL(devUrl) : win.loadURL(`${APP_ORIGIN}/index.html`));
  // Paths given on the command line (`lattice-app scan-folder/`) open once the page is up.
  const paths = process.argv.slice(app.isPackaged ? 1 : 2).filter((a) => !a.startsWith('-') && existsSync(a));
  win.webContents.once('did-finish-load', () => {
    for (const p of paths) sendCommand(win, 'open-path', resolve(p));
  });
  return win;
}

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });

  void app.whenReady().then(async () => {
    services = new Services({
      transport: 'electron',
      settingsDir: app.getPath('userData'),
      version: version(),
      onRecentChanged: refreshMenu,
      // Heavy work runs in utility processes, never in this process.
      jobRunner: async () => new (await import('../jobs/utility-process-runner')).UtilityProcessJobRunner(),
      dialogs: {
        async open(a) {
          const win = BrowserWindow.getFocusedWindow() ?? mainWindow;
          if (a.kind === 'save-nifti') {
            const opts: Electron.SaveDialogOptions = {
              title: a.title ?? 'Export as NIfTI',
              filters: [
                { name: 'NIfTI (compressed)', extensions: ['nii.gz'] },
                { name: 'NIfTI', extensions: ['nii'] },
                { name: 'NRRD', extensions: ['nrrd'] },
                { name: 'MetaImage', extensions: ['mha'] },
                { name: 'PNG (one slice)', extensions: ['png'] },
                { name: 'TIFF (one slice)', extensions: ['tif'] },
              ],
              ...(a.defaultPath ? { defaultPath: a.defaultPath } : {}),
            };
            const r = await (win ? dialog.showSaveDialog(win, opts) : dialog.showSaveDialog(opts));
            return r.canceled || !r.filePath ? [] : [r.filePath];
          }
          const opts = openDialogOptions(a.kind, a.defaultPath, a.title);
          const r = await (win ? dialog.showOpenDialog(win, opts) : dialog.showOpenDialog(opts));
          return r.canceled ? [] : r.filePaths;
        },
      },
    });
    registerAppProtocol();
    lockDownSession();
    ipcMain.handle(IPC_INVOKE, (e, channel: unknown, args: unknown) => {
      if (!trustedSender(e)) return { ok: false, error: { code: 'unsupported', message: 'IPC refused: not from the Lattice UI' } };
      return services.dispatcher.handle(channel, args, clientFor(e.sender));
    });
    refreshMenu(await services.recent.list());
    mainWindow = createWindow();
    mainWindow.on('closed', () => (mainWindow = undefined));
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => void services?.dispose());
}
