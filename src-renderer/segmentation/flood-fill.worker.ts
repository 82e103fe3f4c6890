/** Web worker: 3D flood fills of the label editor off the UI thread (protocol: flood-fill-protocol.ts). */
import { FloodFillService, type FloodRequest } from '../../src-shared/segmentation/flood-fill-protocol';

const service = new FloodFillService();
self.onmessage = (e: MessageEvent<FloodRequest>) => {
  const { reply, transfer } = service.handle(e.data);
  (self as unknown as Worker).postMessage(reply, transfer);
};
