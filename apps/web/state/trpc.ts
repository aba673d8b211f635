import { createTRPCContext } from '@trpc/tanstack-react-query';
// Type-only: the router's type describes every procedure's input and output. It is erased at
// build time, so no agent code reaches the browser bundle; this is the one place the dashboard
// reaches into apps/agent.
import type { AppRouter } from '@proctrail/agent/api-router';

export type { AppRouter };

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();
