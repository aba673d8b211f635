import { z } from 'zod';
import { timestamp } from '../tetragon/scalars';

/**
 * Filters over processes, shared by `proctrail search`, `proctrail export` and the API.
 * Text filters match substrings; `path` beginning with "/" matches that path and everything
 * under it; `since`/`until` select processes alive at some moment of the range.
 */
export const processFiltersSchema = z.object({
  binary: z.string().min(1).optional(),
  args: z.string().min(1).optional(),
  pid: z.number().int().min(0).optional(),
  execId: z.string().min(1).optional(),
  node: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  pod: z.string().min(1).optional(),
  /**
   * A container: its id or a prefix of it (as `docker ps` and `crictl ps` print it, with or
   * without the runtime's `containerd://`), or its name in the pod.
   */
  container: z.string().min(1).optional(),
  /** A workload by name (a Deployment, DaemonSet, ... or a bare pod's own name). */
  workload: z.string().min(1).optional(),
  ip: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  path: z.string().min(1).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
  /** A source name (an import or an agent) to search alone. */
  source: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(10_000).default(100),
});

export type ProcessFilters = z.input<typeof processFiltersSchema>;
export type ValidProcessFilters = z.output<typeof processFiltersSchema>;
