/**
 * Renderer entry: Vue + Pinia, the IPC client (Electron bridge or the browser host's
 * WebSocket) as the loading store's backend, and the native menu's commands.
 */
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { getLatticeApi } from './api';
import { createIpcBackend } from './backend';
import { useLoadingStore } from './stores/loading';
import { useViewStore } from './stores/view';
import { useImagesStore } from './stores/images';
import { useColorMapsStore } from './stores/colormaps';
import { useLayerUiStore } from './stores/layer-ui';
import { useRegistrationStore } from './stores/registration';
import { useDemonsStore } from './stores/demons';
import { useTransformFileStore } from './stores/transform-file';
import { useWorkspaceStore } from './stores/workspace';
import { useDisplayEqualizeStore } from './stores/display-equalize';

const app = createApp(App);
app.use(createPinia());

const api = getLatticeApi();
const loading = useLoadingStore();
loading.setBackend(createIpcBackend(api));
// Custom colour maps live in the user's settings on the host (same in Electron and browser).
void useColorMapsStore().setBackend({ get: (k) => api.getSetting(k), set: (k, v) => api.setSetting(k, v) });
useLayerUiStore().setExportBackend({
  hasNativeDialogs: async () => (await api.info()).nativeDialogs,
  saveDialog: async (defaultPath) => (await api.openDialog('save-nifti', defaultPath))[0] ?? null,
  exportVolume: (hostId, path, overwrite, onProgress) => api.exportVolume(hostId, path, { overwrite, onProgress }),
  // Outputs go to the folder last written to, else ~/Documents, else home (never a DICOM folder).
  async defaultFolder() {
    const last = await api.getSetting('output.lastFolder').catch(() => null);
    if (typeof last === 'string' && last && (await api.listFolder(last).then(() => true, () => false))) return last;
    const home = (await api.info()).homeDir.replace(/[\\/]+$/, '');
    const docs = `${home}/Documents`;
    return (await api.listFolder(docs).then(() => true, () => false)) ? docs : home;
  },
  rememberFolder: (folder) => api.setSetting('output.lastFolder', folder),
});
void useWorkspaceStore().setBackend({
  readText: (path) => api.readWorkspace(path),
  writeText: (path, text, overwrite) => api.saveWorkspace(path, text, overwrite),
  exportVolume: (hostId, path, overwrite, onProgress) => api.exportVolume(hostId, path, { overwrite, onProgress }),
  async openFile(path) {
    const r = await api.openImage(path);
    return { volume: r.volume, modality: String(r.volume.metadata.Modality ?? ''), name: r.header.name, warnings: r.warnings, hostId: r.header.id };
  },
  async openDicom(folder, want) {
    const scan = await api.scanDicom([folder]);
    const same = (a: readonly number[], b?: number[]) => !b || a.slice(0, 3).every((x, i) => x === b[i]);
    const s =
      scan.series.find((x) => (!want?.uid || x.seriesInstanceUid === want.uid) && same(x.dims, want?.dims)) ??
      scan.series.find((x) => want?.uid && x.seriesInstanceUid === want.uid);
    if (!s) throw new Error(`no series ${want?.uid ? `with UID ${want.uid} ` : ''}in ${folder} (it has ${scan.series.map((x) => x.description || x.seriesInstanceUid).join(', ') || 'no DICOM series'})`);
    const r = await api.loadSeries(scan.scanId, s.id);
    return { volume: r.volume, modality: String(r.volume.metadata.Modality ?? s.modality ?? ''), name: r.header.name, warnings: r.warnings, hostId: r.header.id };
  },
  getSetting: (k) => api.getSetting(k),
  setSetting: (k, v) => api.setSetting(k, v),
});
useRegistrationStore().setBackend({
  startJob: (kind, args, inputs, onProgress) => api.startJob(kind, args, inputs, { onProgress }),
  releaseVolumes: (ids) => api.releaseVolumes(ids),
  getVolume: async (id) => (await api.getVolume(id)).volume,
  saveText: (path, text, overwrite) => api.saveTransform(path, text, overwrite),
});
useDemonsStore().setBackend({
  startJob: (kind, args, inputs, on) => api.startJob(kind, args, inputs, on),
  getVolume: async (id) => (await api.getVolume(id)).volume,
  releaseVolumes: (ids) => api.releaseVolumes(ids),
  exportVolume: (hostId, path, overwrite, onProgress) => api.exportVolume(hostId, path, { overwrite, onProgress }),
});
useTransformFileStore().setBackend({
  loadTransform: (path) => api.loadTransform(path),
  writeTransform: (path, m, overwrite) => api.writeTransform(path, m, overwrite),
  openImage: async (path) => {
    const r = await api.openImage(path);
    return { hostId: r.header.id, volume: r.volume };
  },
  startJob: (kind, args, inputs) => api.startJob(kind, args, inputs, {}),
  getVolume: async (id) => (await api.getVolume(id)).volume,
  releaseVolumes: (ids) => api.releaseVolumes(ids),
});
useDisplayEqualizeStore().setBackend({
  startJob: (kind, args, inputs, onProgress) => api.startJob(kind, args, inputs, { onProgress }),
  getVolume: async (id) => (await api.getVolume(id)).volume,
  releaseVolumes: (ids) => api.releaseVolumes(ids),
});
// Layers made in the renderer (processing results) reach the host on demand (job inputs, export).
useImagesStore().setHostUploader(async (volume, name) => (await api.putVolume(volume, name)).id);

const view = useViewStore();
api.on('app.command', ({ command, path }) => {
  switch (command) {
    case 'open-dicom-folder':
      loading.openDialog();
      break;
    case 'open-path':
    case 'open-image':
      if (path) void loading.scanFolder(path);
      else loading.openDialog();
      break;
    case 'export':
      void useLayerUiStore().startExport();
      break;
    case 'view.reset':
      view.resetCameras();
      break;
    case 'view.toggle-crosshair':
      view.showCrosshair = !view.showCrosshair;
      break;
    default:
      break;
  }
});

app.mount('#app');
