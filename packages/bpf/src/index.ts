/**
 * @proctrail/bpf: the eBPF sensor. startSensor() loads and attaches the kernel hooks and hands
 * out typed records (exec, fork, exit, connect, accept, listen, close, open, read, write) in
 * batches; decodeBatch() and the layouts are exported for tools that read raw batches.
 */
export { startSensor, Sensor, DEFAULT_RING_BUFFER_BYTES } from './sensor';
export type { SensorOptions, BatchListener, ErrorListener } from './sensor';
export type { HookFamilies } from './programs';
export type { SensorCounters, KindCounters } from './counters';
export type { ProgramRunStats } from './native';
export type * from './records';
export { SensorError } from './errors';
export { DEFAULT_WATCHED_PATHS, validateWatchedPaths } from './watch';
export { readProcessSnapshot, CLOCK_TICKS_PER_SECOND } from './snapshot';
export type { SnapshotProcess } from './snapshot';
export { decodeBatch } from './decode';
export type { DecodedBatch } from './decode';
export { findCgroupV2Root } from './cgroup-root';
export { encodePolicies, validateKernelPolicies } from './policy';
export type { KernelPolicy, KernelDestination } from './policy';
