import { TRPCError } from '@trpc/server';
import { inventorySearchInputSchema, type InventorySearchResult } from '@proctrail/schema';
import { publicProcedure, router } from '../trpc';

export const inventoryRouter = router({
  /**
   * Which processes ran which executables and loaded which libraries, with hashes and
   * versions: loads newest first, and per file how many processes loaded it, how many still
   * run and when it was last loaded ("is it gone?").
   */
  search: publicProcedure
    .input(inventorySearchInputSchema)
    .query(({ ctx, input }): Promise<InventorySearchResult> => {
      if (!ctx.store.inventory) {
        throw new TRPCError({
          code: 'NOT_IMPLEMENTED',
          message: 'this store keeps no software inventory',
        });
      }
      return ctx.store.inventory(input);
    }),
});
