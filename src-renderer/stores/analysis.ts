/**
 * The image-analysis tools (filters, equalisation, distance maps, Chan–Vese, mask comparison
 * and label statistics: the 'analysis.*' job kinds of src-shared/analysis/jobs.ts). The jobs
 * run through the tools store (stores/tools.ts: its progress bar, Cancel, errors and Undo);
 * this store holds the forms and the two result tables.
 */
import { defineStore } from 'pinia';
import { reactive, shallowRef, watch } from 'vue';
import type { Vec3 } from '../../src-shared/image/volume';
import type { FilterKind } from '../../src-shared/analysis/filters';
import type { MaskComparison } from '../../src-shared/analysis/compare-masks';
import type { LabelStat } from '../../src-shared/analysis/label-stats';
import { nearestVoxelIndex } from '../rendering/slice-geometry';
import { MASK_COLOURS, useToolsStore, type ToolLayer } from './tools';
import { useViewStore } from './view';

export const FILTER_LABELS: Record<FilterKind, string> = {
  mean: 'Mean',
  median: 'Median',
  gaussian: 'Gaussian',
  'gradient-magnitude': 'Gradient magnitude',
  'gradient-x': 'Gradient x (L)',
  'gradient-y': 'Gradient y (P)',
  'gradient-z': 'Gradient z (S)',
  laplacian: 'Laplacian',
  kernel: 'Custom kernel',
};

/** Kernel text: numbers separated by spaces/commas, rows by new lines, slices by blank lines. */
export function parseKernel(text: string): { kernel: number[]; size: Vec3 } {
  const slices = text.trim().split(/\n\s*\n/).map((s) => s.trim().split('\n').map((r) => r.trim().split(/[\s,;]+/).filter(Boolean).map(Number)));
  const ny = slices[0].length, nx = slices[0][0]?.length ?? 0;
  for (const s of slices) {
    if (s.length !== ny || s.some((r) => r.length !== nx)) throw new Error('Kernel: every row needs the same number of weights and every slice the same number of rows.');
    for (const r of s) if (r.some((x) => !Number.isFinite(x))) throw new Error('Kernel: the weights must be numbers.');
  }
  return { kernel: slices.flat(2), size: [nx, ny, slices.length] };
}

export const useAnalysisStore = defineStore('analysis', () => {
  const tools = useToolsStore();
  const view = useViewStore();

  const forms = reactive({
    filter: { source: '', filter: 'gaussian' as FilterKind, radius: 1, sigmaMm: 2, perAxis: false, sigmaAxes: [2, 2, 2] as Vec3, kernelText: '0 -1 0\n-1 5 -1\n0 -1 0' },
    // method 'adaptive' = CLAHE; tile 0 = skimage's default (⅛ of each dimension).
    equalize: { source: '', method: 'global' as 'global' | 'adaptive', bins: 256, mask: '', tile: 0, clipLimit: 0.01, perSlice: false },
    distance: { source: '', mode: 'signed' as 'inside' | 'outside' | 'signed' },
    chanVese: { source: '', where: 'slice' as 'slice' | 'volume', axis: 2 as 0 | 1 | 2, mu: 0.25, lambda1: 1, lambda2: 1, iterations: 200, tol: 1e-3, init: '' },
    compare: { a: '', b: '' },
    stats: { labels: '', image: '' },
  });
  const comparison = shallowRef<(MaskComparison & { names: [string, string] }) | null>(null);
  const labelStats = shallowRef<{ rows: LabelStat[]; labels: string; image: string | null } | null>(null);

  // Defaults: the main image for image inputs, the newest masks for mask inputs.
  let knownMasks = new Set<string>();
  watch(
    () => tools.layers,
    (ls: ToolLayer[]) => {
      const ids = new Set(ls.map((l) => l.id));
      const main = ls.find((l) => l.role === 'main')?.id ?? ls[0]?.id ?? '';
      const masks = ls.filter((l) => l.isLabel).map((l) => l.id);
      const last = masks[masks.length - 1] ?? '', prev = masks[masks.length - 2] ?? '';
      const fix = (cur: string, dflt: string) => (cur && ids.has(cur) ? cur : dflt);
      const f = forms;
      f.filter.source = fix(f.filter.source, main);
      f.equalize.source = fix(f.equalize.source, main);
      f.equalize.mask = f.equalize.mask && ids.has(f.equalize.mask) ? f.equalize.mask : '';
      f.distance.source = fix(f.distance.source, last);
      f.chanVese.source = fix(f.chanVese.source, main);
      f.chanVese.init = f.chanVese.init && ids.has(f.chanVese.init) ? f.chanVese.init : '';
      f.compare.a = fix(f.compare.a, prev || last);
      f.compare.b = fix(f.compare.b, last);
      f.stats.labels = fix(f.stats.labels, last);
      // A new mask (the result of an operation) becomes the mask input; compare it with the one before.
      const fresh = masks.filter((id) => !knownMasks.has(id));
      if (knownMasks.size && fresh.length) {
        const id = fresh[fresh.length - 1];
        if (f.compare.b !== id) f.compare.a = f.compare.b || f.compare.a;
        f.compare.b = id;
        f.distance.source = id;
        f.stats.labels = id;
      }
      knownMasks = new Set(masks);
      f.stats.image = f.stats.image && ids.has(f.stats.image) ? f.stats.image : main;
    },
    { immediate: true, flush: 'sync' },
  );

  async function applyFilter() {
    const f = forms.filter;
    const src = tools.layerOf(f.source);
    const params: Record<string, unknown> = { filter: f.filter };
    let what = FILTER_LABELS[f.filter];
    if (f.filter === 'mean' || f.filter === 'median') {
      params.radius = f.radius;
      what += ` r${f.radius}`;
    } else if (f.filter === 'gaussian') {
      params.sigmaMm = f.perAxis ? [...f.sigmaAxes] : f.sigmaMm;
      what += ` σ ${f.perAxis ? f.sigmaAxes.join(',') : f.sigmaMm} mm`;
    } else if (f.filter === 'kernel') {
      const k = parseKernel(f.kernelText);
      params.kernel = k.kernel;
      params.kernelSize = k.size;
      what += ` ${k.size.join('×')}`;
    }
    return tools.runOperation(what, 'analysis.filter', params, [src], [{ name: `${what} of ${src.name}`, role: 'additional', isLabel: false }]);
  }

  async function applyEqualize() {
    const f = forms.equalize;
    const src = tools.layerOf(f.source);
    if (f.method === 'adaptive') {
      const params: Record<string, unknown> = { clipLimit: f.clipLimit, nbins: f.bins, perSlice: f.perSlice };
      if (f.tile > 0) params.kernelSize = f.tile;
      const what = `CLAHE${f.perSlice ? ' per slice' : ''} clip ${f.clipLimit}`;
      return tools.runOperation(what, 'analysis.clahe', params, [src], [{ name: `${what} of ${src.name}`, role: 'additional', isLabel: false }]);
    }
    const inputs = f.mask ? [src, tools.layerOf(f.mask)] : [src];
    return tools.runOperation('Equalise', 'analysis.equalize', { bins: f.bins }, inputs, [{ name: `Equalised ${src.name}`, role: 'additional', isLabel: false }]);
  }

  async function applyDistance() {
    const f = forms.distance;
    const src = tools.layerOf(f.source);
    return tools.runOperation(`Distance (${f.mode})`, 'analysis.distance', { mode: f.mode }, [src], [{ name: `Distance ${f.mode} to ${src.name} (mm)`, role: 'additional', isLabel: false }]);
  }

  /** The slice through the 3D cursor of `src` along index axis `axis`. */
  function cursorSlice(src: ToolLayer, axis: 0 | 1 | 2): number {
    return nearestVoxelIndex(src.volume, view.cursorWorld)[axis];
  }

  async function applyChanVese() {
    const f = forms.chanVese;
    const src = tools.layerOf(f.source);
    const params: Record<string, unknown> = { mu: f.mu, lambda1: f.lambda1, lambda2: f.lambda2, maxIterations: f.iterations, tol: f.tol };
    let label = 'Chan–Vese 3D';
    if (f.where === 'slice') {
      const index = cursorSlice(src, f.axis);
      params.slice = { axis: f.axis, index };
      label = `Chan–Vese ${'ijk'[f.axis]} = ${index}`;
    }
    const inputs = f.init ? [src, tools.layerOf(f.init)] : [src];
    return tools.runOperation(label, 'analysis.chanVese', params, inputs, [{ name: `${label} of ${src.name}`, role: 'overlay', isLabel: true, colormap: MASK_COLOURS.derived, opacity: 0.5 }], (r) =>
      typeof r?.iterations === 'number' ? `${r.iterations} iterations; RMS change of φ ${Number(r.change).toExponential(1)}` : null,
    );
  }

  async function applyCompare() {
    const f = forms.compare;
    const a = tools.layerOf(f.a), b = tools.layerOf(f.b);
    let res: Record<string, unknown> | undefined;
    await tools.runOperation('Compare masks', 'analysis.compareMasks', {}, [a, b], [], (r) => {
      res = r;
      return null;
    });
    if (res) comparison.value = { ...(res as unknown as MaskComparison), names: [a.name, b.name] };
    return comparison.value;
  }

  async function applyStats() {
    const f = forms.stats;
    const l = tools.layerOf(f.labels);
    const img = f.image ? tools.layerOf(f.image) : null;
    let res: Record<string, unknown> | undefined;
    await tools.runOperation('Label statistics', 'analysis.labelStats', {}, img ? [l, img] : [l], [], (r) => {
      res = r;
      return null;
    });
    if (res) labelStats.value = { rows: (res.labels ?? []) as LabelStat[], labels: l.name, image: img?.name ?? null };
    return labelStats.value;
  }

  return { forms, comparison, labelStats, applyFilter, applyEqualize, applyDistance, applyChanVese, applyCompare, applyStats };
});
