/**
 * Where the agent's API is, read on the dashboard's server at request time (not at build
 * time): `proctrail dashboard --api URL` sets PROCTRAIL_API_URL for `next start`.
 */
export function apiBaseUrl(): string {
  return (process.env.PROCTRAIL_API_URL ?? 'http://127.0.0.1:7070').replace(/\/$/, '');
}

export function apiToken(): string | undefined {
  return process.env.PROCTRAIL_TOKEN || undefined;
}

/**
 * The WebSocket URL the browser opens for live events. WebSockets are not subject to CORS, so
 * the browser connects to the agent's port directly; the token, when there is one, travels as
 * `?token=` because browsers cannot set headers on a WebSocket upgrade.
 * Limitation: the URL names the agent's host as the dashboard's server sees it, so a browser on
 * another machine needs the agent reachable at that same address.
 */
export function liveSocketUrl(): string {
  const url = new URL(`${apiBaseUrl()}/trpc`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = apiToken();
  if (token) url.searchParams.set('token', token);
  return url.toString();
}
