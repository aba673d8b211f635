import type { PolicyStatus } from '../../policy/policy-registry';
import { publicProcedure, router } from '../trpc';

export const policyRouter = router({
  /**
   * The prevention policies the agent enforces, with what each has blocked or reported since
   * the agent started; empty when none was loaded (or the database is served alone).
   */
  list: publicProcedure.query(({ ctx }): PolicyStatus[] => ctx.policies?.list() ?? []),
});
