import { tracked } from '@trpc/server';
import {
  DETECTION_SEVERITIES,
  detectionListInputSchema,
  detectionLiveInputSchema,
  type Detection,
} from '@proctrail/schema';
import { publicProcedure, router } from '../trpc';

export const detectionRouter = router({
  /**
   * Stored detections, newest first, filtered by severity, rule, time, node or exec_id; the
   * next page starts `before` the last detection of this one.
   */
  list: publicProcedure
    .input(detectionListInputSchema)
    .query(({ ctx, input }): Promise<Detection[]> => ctx.store.detections(input)),

  /**
   * Detections as they are stored. Limitation: no replay after a reconnect; what was missed
   * is in detection.list.
   */
  live: publicProcedure.input(detectionLiveInputSchema).subscription(async function* (opts) {
    const { ctx, input, signal } = opts;
    if (!ctx.detections) return;
    const minimum = DETECTION_SEVERITIES.indexOf(input.minSeverity ?? 'low');
    for await (const detection of ctx.detections.subscribe(signal)) {
      if (DETECTION_SEVERITIES.indexOf(detection.severity) < minimum) continue;
      if (input.rule && detection.rule !== input.rule) continue;
      yield tracked(String(detection.id), detection);
    }
  }),
});
