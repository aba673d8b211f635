import { statsSummaryInputSchema, type StatsSummary } from '@proctrail/schema';
import { publicProcedure, router } from '../trpc';

export const statsRouter = router({
  /**
   * Counts of what is stored, over everything or over a time range (`since`, `until`), with
   * what the sensor lost since the agent started (loss is not kept by time: it is whole).
   */
  summary: publicProcedure.input(statsSummaryInputSchema).query(async ({ ctx, input }) => {
    const range = { since: input.since, until: input.until };
    const [stored, last] = await Promise.all([
      ctx.store.stats(input.topBinaries, range),
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
