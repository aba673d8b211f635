import type { ProcessTree, ProcessTreeInput } from '@proctrail/schema';

/**
 * The process page's tree query, as one plain GET that the server names in the page's head
 * (`<link rel="preload">`): the browser fetches the tree while it loads the page's scripts,
 * instead of after they ran. The page's own fetch then gets the preloaded answer, which only
 * works when both ask for the very same URL: both build it here, from the page's URL.
 * The request is tRPC's documented HTTP form for a query (`GET /trpc/<path>?input=<JSON>`,
 * answered with `{ result: { data } }` or `{ error }`), sent to the dashboard's proxy.
 */

export const DEFAULT_MAX_DESCENDANTS = 1000;
export const MAX_DEPTH = 64;

type Params = { get(name: string): string | null };

/** The tree query a process page's URL asks for; null without an exec_id. */
export function treeInputOf(params: Params): ProcessTreeInput | null {
  const execId = params.get('execId');
  if (!execId) return null;
  const source = params.get('source') || undefined;
  const maxDescendants = Number(params.get('max')) || DEFAULT_MAX_DESCENDANTS;
  return { execId, source, maxDescendants, maxDepth: MAX_DEPTH };
}

export function treeQueryUrl(input: ProcessTreeInput): string {
  return `/trpc/process.tree?input=${encodeURIComponent(JSON.stringify(input))}`;
}

export class TreeQueryError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'TreeQueryError';
  }
}

export async function fetchTree(
  input: ProcessTreeInput,
  signal?: AbortSignal,
): Promise<ProcessTree> {
  const answer = await fetch(treeQueryUrl(input), { signal });
  const body = (await answer.json().catch(() => null)) as {
    result?: { data?: ProcessTree };
    error?: { message?: string };
  } | null;
  if (body?.result?.data) return body.result.data;
  throw new TreeQueryError(
    body?.error?.message ?? `the tree query answered HTTP ${answer.status}`,
    answer.status,
  );
}
