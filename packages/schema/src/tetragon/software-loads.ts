/**
 * What an event says about the software a process ran: an exec event's binary_hash, or a
 * process_loader event's library. The stores keep these as the inventory (one row per
 * execution, role and path); keep in sync with their software_loads tables.
 */
import type { EventBody } from './events';
import type { ParsedEvent } from './parse';
import type { TetragonProcess } from './process';

export interface SoftwareLoad {
  role: 'executable' | 'library';
  path: string;
  sha256?: string;
  /** hex */
  buildId?: string;
  name?: string;
  version?: string;
  soname?: string;
  error?: string;
  advisories: string[];
}

/** Tetragon's base64 build-id as hex; undefined when it is not base64. (atob: browsers too.) */
function buildIdHex(base64: string | undefined): string | undefined {
  if (!base64) return undefined;
  try {
    const bytes = atob(base64);
    const hex = Array.from(bytes, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
    return hex || undefined;
  } catch {
    return undefined;
  }
}

/** The software load an event records, if it records one. */
export function softwareLoadOf(parsed: ParsedEvent): SoftwareLoad | undefined {
  if (parsed.kind === 'process_exec') {
    const process = (parsed.body as { process?: TetragonProcess }).process;
    const hash = process?.binary_hash;
    if (!process?.binary || !hash) return undefined;
    return {
      role: 'executable',
      path: process.binary,
      sha256: hash.sha256,
      buildId: hash.build_id,
      error: hash.error,
      advisories: [],
    };
  }
  if (parsed.kind !== 'process_loader') return undefined;
  const body = parsed.body as EventBody<'process_loader'>;
  if (!body.path) return undefined;
  return {
    role: body.role ?? 'library',
    path: body.path,
    sha256: body.hash?.sha256,
    buildId: body.hash?.build_id ?? buildIdHex(body.buildid),
    name: body.software?.name,
    version: body.software?.version,
    soname: body.software?.soname,
    error: body.hash?.error,
    advisories: body.advisories ?? [],
  };
}
