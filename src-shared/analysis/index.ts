/** Image analysis operations (filters, equalisation (global and CLAHE), distance maps, mask comparison, label statistics, Chan–Vese). */
export * from './common';
export * from './kernels';
export * from './filters';
export * from './equalize';
export * from './clahe';
export * from './distance';
export * from './compare-masks';
export * from './label-stats';
export * from './chan-vese';
export * from './jobs';
