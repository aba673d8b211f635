/**
 * The executions columns an upsert fills from a process object, in the order of the stores'
 * upsert parameters; a richer description replaces them, a poorer one only fills those still
 * null. Both stores also number them as bits (bit i: column i is null).
 */
export const DESCRIPTIVE_COLUMNS = [
  'parent_exec_id',
  'node_name',
  'pid',
  'uid',
  'auid',
  'cwd',
  'binary',
  'arguments',
  'flags',
  'start_time',
  'pod_namespace',
  'pod_name',
  'container_id',
  'in_init_tree',
] as const;
