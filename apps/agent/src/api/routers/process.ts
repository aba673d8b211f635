import { TRPCError } from '@trpc/server';
import {
  processRefSchema,
  processSearchInputSchema,
  processTreeInputSchema,
  type ProcessNode,
  type ProcessPage,
  type ProcessTree,
} from '@proctrail/schema';
import { publicProcedure, router } from '../trpc';
import { sourceOfExecution } from './process-source';

/** The ancestry is the tree's upper half: the process and its parents up to the root. */
export interface ProcessAncestry {
  process: ProcessNode;
  /** Root first, ending with the process's parent. */
  ancestors: ProcessNode[];
  ancestryTruncated: boolean;
}

export const processRouter = router({
  /** Processes matching the filters, newest first, one page at a time. */
  search: publicProcedure.input(processSearchInputSchema).query(async ({ ctx, input }) => {
    const { cursor = 0, ...filters } = input;
    // One more than asked tells whether another page follows.
    const found = await ctx.store.search({ ...filters, limit: filters.limit + 1 }, cursor);
    const items = found.slice(0, filters.limit);
    const page: ProcessPage = {
      items,
      nextCursor: found.length > filters.limit ? cursor + items.length : null,
    };
    return page;
  }),

  get: publicProcedure.input(processRefSchema).query(async ({ ctx, input }) => {
    const source = await sourceOfExecution(ctx.store, input.execId, input.source);
    const [found] = await ctx.store.search({ execId: input.execId, source: source.name, limit: 1 });
    if (!found) {
      throw new TRPCError({
        code: 'NOT_FOUND',
        message: `no process with exec_id ${input.execId}`,
      });
    }
    return found as ProcessNode;
  }),

  ancestry: publicProcedure.input(processRefSchema).query(async ({ ctx, input }) => {
    const source = await sourceOfExecution(ctx.store, input.execId, input.source);
    const tree = await ctx.store.tree(source, input.execId, { maxDepth: 0, maxDescendants: 1 });
    if (!tree) {
      throw new TRPCError({
        code: 'NOT_FOUND',
        message: `no process with exec_id ${input.execId}`,
      });
    }
    const ancestry: ProcessAncestry = {
      process: tree.process,
      ancestors: tree.ancestors,
      ancestryTruncated: tree.ancestryTruncated,
    };
    return ancestry;
  }),

  /** The process, its ancestors, and its descendants with their network and file edges. */
  tree: publicProcedure.input(processTreeInputSchema).query(async ({ ctx, input }) => {
    const source = await sourceOfExecution(ctx.store, input.execId, input.source);
    const tree = await ctx.store.tree(source, input.execId, {
      maxDepth: input.maxDepth,
      maxDescendants: input.maxDescendants,
    });
    if (!tree) {
      throw new TRPCError({
        code: 'NOT_FOUND',
        message: `no process with exec_id ${input.execId}`,
      });
    }
    return tree as ProcessTree;
  }),
});
