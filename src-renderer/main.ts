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
  exportVolume: (hostId, path, overwrite) => api.exportVolume(hostId, path, { overwrite }),
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
  exportVolume: (hostId, path, overwrite) => api.exportVolume(hostId, path, { overwrite }),
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
