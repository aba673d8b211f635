'use client';

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { liveBatchLink } from '@proctrail/schema/live-batch-link';
import { useState, type ReactNode } from 'react';
import { TRPCProvider, type AppRouter } from '../state/trpc';

/** Queries go to /trpc on this origin (proxied to the agent); subscriptions to its WebSocket. */
function createClients(liveSocketUrl: string) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { staleTime: 10_000, retry: 1, refetchOnWindowFocus: false } },
  });
  // Lazy: the socket opens with the first subscription (the Live page), not on every page.
  const wsClient = createWSClient({ url: liveSocketUrl, lazy: { enabled: true, closeMs: 5_000 } });
  const trpcClient = createTRPCClient<AppRouter>({
    links: [
      // The Live page's event.live travels as event.liveBatches: one message per batch.
      liveBatchLink(),
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({ url: '/trpc', maxItems: 50 }),
      }),
    ],
  });
  return { queryClient, trpcClient };
}

export function Providers({
  liveSocketUrl,
  children,
}: {
  liveSocketUrl: string;
  children: ReactNode;
}) {
  const [{ queryClient, trpcClient }] = useState(() => createClients(liveSocketUrl));
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
