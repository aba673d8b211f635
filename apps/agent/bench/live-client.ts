/**
 * The far end of the live benchmark, in a process of its own as a dashboard would be: follows
 * event.live (through liveBatchLink, or one message per event without it) and prints `DONE ms`
 * (its clock) once it has received `count` events, `ERROR message` if the agent dropped it.
 * Usage: live-client.ts URL batched|single COUNT
 */
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { liveBatchLink } from '@proctrail/schema/live-batch-link';
import WebSocket from 'ws';
import { webSocketUrl } from '../src/api/client';
import type { AppRouter } from '../src/api/router';

const [url, mode, countText] = process.argv.slice(2);
const count = Number(countText);
const wsClient = createWSClient({
  url: webSocketUrl(url!),
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
});
const transport = wsLink<AppRouter>({ client: wsClient });
const trpc = createTRPCClient<AppRouter>({
  links: mode === 'batched' ? [liveBatchLink(), transport] : [transport],
});
let received = 0;
trpc.event.live.subscribe(
  {},
  {
    onStarted: () => console.log('STARTED'),
    onData: () => {
      received++;
      if (received === count) {
        console.log(`DONE ${Date.now()}`);
        void wsClient.close().then(() => process.exit(0));
      }
    },
    onError: (error) => {
      console.log(`ERROR ${error.message.split('\n')[0]}`);
      process.exit(1);
    },
  },
);
