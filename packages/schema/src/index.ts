/**
 * Proctrail's shared language: Tetragon's JSON events (schemas, parsing, what they say about
 * processes, the network and files), and the exec_id recipe.
 */
export * from './tetragon/scalars';
export * from './tetragon/time';
export * from './tetragon/process';
export * from './tetragon/arguments';
export * from './tetragon/events';
export * from './tetragon/parse';
export * from './tetragon/edges';
export * from './tetragon/software-loads';
export * from './tetragon/subjects';
export * from './exec-id';
export * from './api/search';
export * from './api/process-node';
export * from './api/process-queries';
export * from './api/events';
export * from './api/stats';
export * from './api/detection';
export * from './tetragon/compact';
export * from './api/inventory';
