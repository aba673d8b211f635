import { apiBaseUrl, apiToken } from '../../../state/api-config';

/**
 * The agent's tRPC queries under the dashboard's own origin: the API sends no CORS headers,
 * and the bearer token stays on this server instead of in the browser's HTTP requests.
 */
export const dynamic = 'force-dynamic';

async function forward(request: Request, params: Promise<{ path: string[] }>): Promise<Response> {
  const { path } = await params;
  const incoming = new URL(request.url);
  // Batched calls name several procedures in one segment ("a,b"); the URL encodes what it must.
  const target = new URL(`${apiBaseUrl()}/trpc/${path.join('/')}`);
  target.search = incoming.search;

  const headers = new Headers({ accept: 'application/json' });
  const contentType = request.headers.get('content-type');
  if (contentType) headers.set('content-type', contentType);
  const token = apiToken();
  if (token) headers.set('authorization', `Bearer ${token}`);

  const body = request.method === 'GET' ? undefined : await request.arrayBuffer();
  try {
    const answer = await fetch(target, { method: request.method, headers, body });
    return new Response(answer.body, {
      status: answer.status,
      headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' },
    });
  } catch (error) {
    const message = `the Proctrail API at ${apiBaseUrl()} did not answer: ${(error as Error).message}`;
    return Response.json({ error: { message, code: -32603 } }, { status: 502 });
  }
}

type Context = { params: Promise<{ path: string[] }> };

export function GET(request: Request, context: Context): Promise<Response> {
  return forward(request, context.params);
}

export function POST(request: Request, context: Context): Promise<Response> {
  return forward(request, context.params);
}
