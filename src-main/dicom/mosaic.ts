/**
 * Mosaics: several slices tiled into one stored image, Siemens ("MOSAIC" image type, CSA
 * NumberOfImagesInMosaic) and United Imaging ("grid", private 0065,1050 with one
 * position per tile in 0065,1051). One place for the tile layout, used by split (dims,
 * positions) and assemble (copying a tile out of the stored image).
 *
 * Layout: tiles are stored row by row, `across` tiles per row. Siemens grids are square
 * (ceil(√n) × ceil(√n), empty tiles at the end); UIH grids are ceil(√n) across and only as
 * many rows as needed (20 tiles of 64×64 in 320×256), as dcm2niix and GDCM read them.
 */
import type dicomParser from 'dicom-parser';
import type { Vec3 } from '../../src-shared/image/volume';
import type { ImageRecord } from './types';

export interface MosaicGrid {
  /** Tiles per row and rows of tiles in the stored image. */
  across: number;
  down: number;
}

/** Grid of a record that is a mosaic (mosaicCount > 1). */
export function mosaicGrid(r: Pick<ImageRecord, 'mosaicCount' | 'mosaicGrid'>): MosaicGrid {
  if (r.mosaicGrid) return r.mosaicGrid;
  const n = Math.ceil(Math.sqrt(r.mosaicCount));
  return { across: n, down: n };
}

/** Columns and rows of one tile (the whole image for plain records). */
export function tileSize(r: Pick<ImageRecord, 'mosaicCount' | 'mosaicGrid' | 'columns' | 'rows'>): [number, number] {
  if (r.mosaicCount <= 1) return [r.columns, r.rows];
  const g = mosaicGrid(r);
  return [Math.floor(r.columns / g.across), Math.floor(r.rows / g.down)];
}

/** Byte offset in the stored image of row y of tile `tile`. */
export function tileRowOffset(r: ImageRecord, tile: number, y: number, bpv: number): number {
  const g = mosaicGrid(r);
  const [tc, tr] = tileSize(r);
  const row = Math.floor(tile / g.across);
  const col = tile % g.across;
  return ((row * tr + y) * r.columns + col * tc) * bpv;
}

function dsNumbers(ds: dicomParser.DataSet | undefined, tag: string): number[] | null {
  if (!ds?.elements[tag]) return null;
  let s = '';
  try {
    s = (ds.string(tag) ?? '').trim();
  } catch {
    return null;
  }
  if (!s) return null;
  const v = s.split('\\').map((x) => Number(x.trim()));
  return v.every(Number.isFinite) ? v : null;
}

export interface UihGrid {
  count: number;
  grid: MosaicGrid;
  /** ImagePositionPatient of each tile (LPS mm), in tile order. */
  positions: Vec3[];
}

/**
 * United Imaging grid ("VFRAME") image: 0065,1050 holds the number of tiles (DS) and
 * 0065,1051 one item per tile with its own ImagePositionPatient (older exports put the
 * items in 0065,1050 itself). Returns null when the file is not a UIH grid, and throws
 * with a readable reason when it claims to be one but the grid does not fit the image.
 */
export function readUihGrid(ds: dicomParser.DataSet, rows: number, columns: number): UihGrid | null {
  const el50 = ds.elements.x00651050;
  if (!el50) return null;
  const items = (el50.items?.length ? el50.items : ds.elements.x00651051?.items) ?? [];
  const count = el50.items?.length ? el50.items.length : Math.round(dsNumbers(ds, 'x00651050')?.[0] ?? 0);
  if (count <= 1) return null;
  const across = Math.ceil(Math.sqrt(count));
  const down = Math.ceil(count / across);
  if (columns % across !== 0 || rows % down !== 0) {
    throw new Error(`UIH grid of ${count} images (${across}×${down} tiles) does not divide the ${columns}×${rows} image`);
  }
  const positions: Vec3[] = [];
  for (const it of items) {
    const p = dsNumbers(it.dataSet, 'x00200032');
    if (p && p.length === 3) positions.push(p as Vec3);
  }
  if (positions.length !== count) {
    throw new Error(`UIH grid of ${count} images lists ${positions.length} tile positions (0065,1051)`);
  }
  return { count, grid: { across, down }, positions };
}
