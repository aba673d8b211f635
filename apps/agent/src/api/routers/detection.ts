import { detectionListInputSchema, type Detection } from '@proctrail/schema';
import { publicProcedure, router } from '../trpc';

export const detectionRouter = router({
  /**
   * Limitation: no detection rules run yet, so the list is always empty; the procedure and
   * its type exist so the dashboard can be built against them.
   */
  list: publicProcedure.input(detectionListInputSchema).query((): Detection[] => []),
});
