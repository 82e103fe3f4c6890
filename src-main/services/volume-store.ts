/**
 * The volumes the main process holds, by id. The renderer keeps its own copy for
 * display; whenever it asks the main side to do something with a volume (export, a
 * job) it sends only the id.
 */
import { randomUUID } from 'node:crypto';
import { IpcError } from '../../src-shared/ipc/contract';
import { headerOf, toWireVolume, type VolumeHeader, type VolumeSource, type WireVolume } from '../../src-shared/ipc/volume-wire';
import type { Volume } from '../../src-shared/image/volume';

interface Entry {
  volume: Volume;
  name: string;
  source?: VolumeSource;
  /** The client (window / browser tab) it was loaded for; freed when that client goes away. */
  owner?: string;
}

/**
 * Gives a volume whose voxels are a view into a bigger buffer (a NIfTI file read whole:
 * header + voxels) a buffer of its own, once, as it is stored. Otherwise every volume.get
 * would copy it on its way to the page (the wire carries whole ArrayBuffers,
 * volume-wire.ts voxelBuffer) and keep that copy alive until the page fetched it: measured
 * on a 2 GiB CT, the host held 3× the volume after one open and one get, 1× now.
 */
function ownBuffer(v: Volume): void {
  const d = v.data;
  if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer) return;
  const Ctor = d.constructor as new (src: ArrayLike<number> & ArrayBufferView) => typeof d;
  v.data = new Ctor(d);
}

export class VolumeStore {
  private readonly entries = new Map<string, Entry>();

  add(volume: Volume, name: string, source?: VolumeSource, owner?: string): string {
    const id = `vol-${randomUUID()}`;
    ownBuffer(volume);
    this.entries.set(id, { volume, name, ...(source ? { source } : {}), ...(owner ? { owner } : {}) });
    return id;
  }

  get(id: string): Volume {
    return this.entry(id).volume;
  }

  header(id: string): VolumeHeader {
    const e = this.entry(id);
    return headerOf(id, e.name, e.volume, e.source);
  }

  wire(id: string): WireVolume {
    const e = this.entry(id);
    return toWireVolume(id, e.name, e.volume, e.source);
  }

  release(ids: string[]): number {
    let n = 0;
    for (const id of ids) if (this.entries.delete(id)) n++;
    return n;
  }

  /**
   * Frees the volumes of a client that disconnected (a closed window, a reloaded tab), so
   * that reloading the page does not leave 150 MB behind each time.
   */
  releaseOwner(owner: string): number {
    let n = 0;
    for (const [id, e] of this.entries) if (e.owner === owner && this.entries.delete(id)) n++;
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new IpcError('not-found', `no volume with id ${id} (it was released, or the host restarted)`);
    return e;
  }
}
