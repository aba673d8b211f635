import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Whether a listen host is reachable only from this machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  // An IPv4-mapped IPv6 loopback address is loopback too.
  return /^::ffff:127\./.test(bare);
}

/**
 * Compares in time independent of where the texts differ: both are hashed first, so neither
 * the position of the first wrong byte nor the token's length shows in the timing.
 */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const COOKIE_NAME = 'proctrail_token';

/**
 * The token a request carries: `Authorization: Bearer T`, and on a WebSocket upgrade also
 * `?token=T` or the `proctrail_token` cookie, since a browser's WebSocket cannot set headers.
 */
export function tokenOf(req: IncomingMessage, upgrade: boolean): string | undefined {
  const header = req.headers.authorization;
  const bearer = header?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer) return bearer.trim();
  if (!upgrade) return undefined;
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  if (query) return query;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE_NAME) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** True when no token is required, or the request carries the right one. */
export function isAuthorized(req: IncomingMessage, token: string | undefined, upgrade = false) {
  if (token === undefined) return true;
  const given = tokenOf(req, upgrade);
  return given !== undefined && tokensMatch(given, token);
}
