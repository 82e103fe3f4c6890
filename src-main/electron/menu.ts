/**
 * The native application menu. Items that need the viewer's state (export the current
 * image, change the layout, pick a tool) are forwarded to the focused window as
 * `app.command` events; items that only need a path (Open…, Open recent) ask for it here
 * with a native dialog and forward `open-path`.
 */
import { Menu, app, dialog, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { READABLE_EXTENSIONS } from '../../src-shared/image/file-formats';
import type { AppCommand, RecentEntry } from '../../src-shared/ipc/contract';

export interface MenuActions {
  /** Sends an app.command event to the window's renderer. */
  command(win: BrowserWindow | undefined, command: AppCommand, path?: string): void;
  clearRecent(): void;
}

export function buildMenu(recent: RecentEntry[], actions: MenuActions): Menu {
  const isMac = process.platform === 'darwin';
  const cmd =
    (command: AppCommand): MenuItemConstructorOptions['click'] =>
    (_item, win) =>
      actions.command(win as BrowserWindow | undefined, command);

  const openWith =
    (kind: 'dicom-folder' | 'image'): MenuItemConstructorOptions['click'] =>
    async (_item, win) => {
      const r = await (win
        ? dialog.showOpenDialog(win as BrowserWindow, openDialogOptions(kind))
        : dialog.showOpenDialog(openDialogOptions(kind)));
      if (!r.canceled && r.filePaths[0]) actions.command(win as BrowserWindow | undefined, 'open-path', r.filePaths[0]);
    };

  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((r) => ({
          label: r.path,
          click: (_i: unknown, win: unknown) => actions.command(win as BrowserWindow | undefined, 'open-path', r.path),
        })),
        { type: 'separator' as const },
        { label: 'Clear Recent', click: () => actions.clearRecent() },
      ]
    : [{ label: 'No recent files', enabled: false }];

  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Open DICOM Folder…', accelerator: 'CmdOrCtrl+O', click: openWith('dicom-folder') },
        { label: 'Open Image…', accelerator: 'CmdOrCtrl+Shift+O', click: openWith('image') },
        { label: 'Open Recent', submenu: recentItems },
        { type: 'separator' },
        { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: cmd('export') },
        { label: 'Close Image', accelerator: 'CmdOrCtrl+W', click: cmd('close-volume') },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit', accelerator: 'CmdOrCtrl+Q' },
      ],
    },
    {
      label: '&View',
      submenu: [
        { label: 'Reset Views', accelerator: 'CmdOrCtrl+R', click: cmd('view.reset') },
        { type: 'separator' },
        { label: 'Layout: Three Views in a Row', accelerator: 'CmdOrCtrl+1', click: cmd('view.layout-1x3') },
        { label: 'Layout: 2 × 2', accelerator: 'CmdOrCtrl+2', click: cmd('view.layout-2x2') },
        { label: 'Axial Only', accelerator: 'CmdOrCtrl+3', click: cmd('view.axial') },
        { label: 'Coronal Only', accelerator: 'CmdOrCtrl+4', click: cmd('view.coronal') },
        { label: 'Sagittal Only', accelerator: 'CmdOrCtrl+5', click: cmd('view.sagittal') },
        { type: 'separator' },
        { label: 'Show Crosshair', accelerator: 'CmdOrCtrl+Shift+X', click: cmd('view.toggle-crosshair') },
        { label: 'Zoom In', accelerator: 'CmdOrCtrl+=', click: cmd('view.zoom-in') },
        { label: 'Zoom Out', accelerator: 'CmdOrCtrl+-', click: cmd('view.zoom-out') },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    {
      // Single-key tool shortcuts are shown but handled by the page (registerAccelerator:
      // false), so typing a path in a text box never switches tools.
      label: '&Tools',
      submenu: [
        { label: 'Window / Level', accelerator: 'W', registerAccelerator: false, click: cmd('tools.window-level') },
        { label: 'Pan', accelerator: 'P', registerAccelerator: false, click: cmd('tools.pan') },
        { label: 'Zoom', accelerator: 'Z', registerAccelerator: false, click: cmd('tools.zoom') },
        { label: 'Measure Distance', accelerator: 'M', registerAccelerator: false, click: cmd('tools.measure') },
      ],
    },
    {
      role: 'help',
      label: '&Help',
      submenu: [
        { label: 'Keyboard Shortcuts', accelerator: 'F1', click: cmd('help.shortcuts') },
        { label: 'About Lattice', click: cmd('help.about') },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}

export function openDialogOptions(kind: 'dicom-folder' | 'image', defaultPath?: string, title?: string): Electron.OpenDialogOptions {
  return kind === 'dicom-folder'
    ? { title: title ?? 'Open DICOM Folder', properties: ['openDirectory'], ...(defaultPath ? { defaultPath } : {}) }
    : {
        title: title ?? 'Open Image',
        properties: ['openFile'],
        filters: [
          { name: 'Images (NIfTI, NRRD, MetaImage, Analyze, TIFF, PNG, JPEG, …)', extensions: [...new Set(READABLE_EXTENSIONS.map((e) => e.split('.').pop()!))] },
          { name: 'NIfTI images', extensions: ['nii', 'gz'] },
          { name: 'All files', extensions: ['*'] },
        ],
        ...(defaultPath ? { defaultPath } : {}),
      };
}
