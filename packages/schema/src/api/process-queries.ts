import { z } from 'zod';
import type { ProcessNode } from './process-node';
import { processFiltersSchema } from './search';

/** Where a page of results starts: the offset of its first item, as the previous page said. */
const cursor = z.number().int().min(0);

/** `process.search`: the process filters plus cursor pagination. */
export const processSearchInputSchema = processFiltersSchema.extend({
  cursor: cursor.optional(),
});

export type ProcessSearchInput = z.input<typeof processSearchInputSchema>;

/** One page of processes; `nextCursor` is null on the last page. */
export interface ProcessPage {
  items: ProcessNode[];
  nextCursor: number | null;
}

/** One execution, and the source (import or agent) to look in when several hold it. */
export const processRefSchema = z.object({
  execId: z.string().min(1),
  source: z.string().min(1).optional(),
});

export type ProcessRef = z.input<typeof processRefSchema>;

/** `process.tree`: descendants down to `maxDepth` levels, `maxDescendants` at most. */
export const processTreeInputSchema = processRefSchema.extend({
  maxDepth: z.number().int().min(0).max(256).default(64),
  maxDescendants: z.number().int().min(1).max(100_000).default(1000),
});

export type ProcessTreeInput = z.input<typeof processTreeInputSchema>;
