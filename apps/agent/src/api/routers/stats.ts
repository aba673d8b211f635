import { statsSummaryInputSchema, type StatsSummary } from '@proctrail/schema';
import { publicProcedure, router } from '../trpc';

export const statsRouter = router({
  summary: publicProcedure.input(statsSummaryInputSchema).query(async ({ ctx, input }) => {
    const [stored, last] = await Promise.all([
      ctx.store.stats(input.topBinaries),
      ctx.store.lastEvent(),
    ]);
    const summary: StatsSummary = {
      ...stored,
      lost: ctx.stats?.lostEvents() ?? null,
      lastEventTime: last?.time ?? null,
    };
    return summary;
  }),
});
