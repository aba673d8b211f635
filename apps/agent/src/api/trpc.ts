import { initTRPC } from '@trpc/server';
import type { ApiContext } from './context';

interface Issue {
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
  message: string;
}

/** The validation issues of an input error, whichever schema library raised them. */
function issuesOf(cause: unknown): Issue[] | undefined {
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? (issues as Issue[]) : undefined;
}

function fieldOf(issue: Issue): string {
  const keys = (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p));
  return keys.length ? keys.map(String).join('.') : '(input)';
}

const t = initTRPC.context<ApiContext>().create({
  // Never a server stack trace in an answer: whoever holds the token learns the field that
  // failed, not the agent's file layout (tRPC sends stacks whenever NODE_ENV is not production).
  isDev: false,
  /**
   * A bad input answers with the field that failed and why ("limit: Too big: ..."), not the
   * schema library's JSON dump; errors with a code of their own (SLOW_CONSUMER) say it in
   * `data.reason`, so a client can tell a dropped subscription from a crash.
   */
  errorFormatter({ shape, error }) {
    const issues = error.code === 'BAD_REQUEST' ? issuesOf(error.cause) : undefined;
    const reason = (error.cause as { code?: unknown } | undefined)?.code;
    return {
      ...shape,
      message: issues?.length
        ? issues.map((i) => `${fieldOf(i)}: ${i.message}`).join('; ')
        : shape.message,
      data: {
        ...shape.data,
        fields: issues?.map(fieldOf) ?? null,
        reason: typeof reason === 'string' ? reason : null,
      },
    };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
