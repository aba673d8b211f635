import { detectionRouter } from './routers/detection';
import { eventRouter } from './routers/event';
import { inventoryRouter } from './routers/inventory';
import { policyRouter } from './routers/policy';
import { processRouter } from './routers/process';
import { statsRouter } from './routers/stats';
import { router } from './trpc';

/** The agent's API: one router per resource. */
export const appRouter = router({
  process: processRouter,
  event: eventRouter,
  stats: statsRouter,
  detection: detectionRouter,
  policy: policyRouter,
  inventory: inventoryRouter,
});

export type AppRouter = typeof appRouter;
