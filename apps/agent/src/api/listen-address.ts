import { isLoopbackHost } from './auth';

export const DEFAULT_LISTEN = '127.0.0.1:7070';

/** An error in how the server was asked to start; `input` is the option at fault. */
export class ApiConfigError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiConfigError';
  }
}

export interface ListenAddress {
  /** Without brackets: "127.0.0.1", "::1", "0.0.0.0". */
  host: string;
  port: number;
}

/** Parses HOST:PORT, with IPv6 hosts in brackets ("[::1]:7070"). Port 0 picks a free port. */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new ApiConfigError(
      text,
      `--listen ${JSON.stringify(text)}: expected HOST:PORT, such as 127.0.0.1:7070 or [::1]:7070`,
    );
  }
  return { host: match[1] ?? match[2]!, port };
}

/**
 * Refuses to expose the API beyond this machine without a token: the events name every
 * process, argument and connection of the host.
 */
export function checkExposure(address: ListenAddress, token: string | undefined): void {
  if (token !== undefined && token.length === 0) {
    throw new ApiConfigError('--token', 'the token is empty; give a non-empty --token');
  }
  if (isLoopbackHost(address.host) || token) return;
  throw new ApiConfigError(
    address.host,
    `refusing to listen on ${address.host} without a token: the API would show this host's ` +
      'processes to the network. Give --token (or PROCTRAIL_TOKEN), or listen on 127.0.0.1.',
  );
}
