import { TRPCError } from '@trpc/server';
import type { SourceInfo, Store } from '../../store/types';

/**
 * The source to read an execution from: the one named, else the first that holds it (the same
 * exec_id in two sources is the same process seen by an import and by the agent).
 */
export async function sourceOfExecution(
  store: Store,
  execId: string,
  sourceName: string | undefined,
): Promise<SourceInfo> {
  const sources = await store.sourcesOf(execId);
  const source = sourceName ? sources.find((s) => s.name === sourceName) : sources[0];
  if (source) return source;
  const where = sourceName ? ` in source ${JSON.stringify(sourceName)}` : '';
  throw new TRPCError({ code: 'NOT_FOUND', message: `no process with exec_id ${execId}${where}` });
}
