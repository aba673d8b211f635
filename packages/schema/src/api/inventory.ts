import { z } from 'zod';
import { timestamp } from '../tetragon/scalars';

/** What inventory.search asks: every filter narrows; globs use * and ?. */
export const inventorySearchInputSchema = z
  .object({
    /** Executables whose path matches (a glob on the path, or on the base name alone). */
    binary: z.string().min(1).max(4096).optional(),
    /** Libraries whose path, or name, matches. */
    library: z.string().min(1).max(4096).optional(),
    /** A file's SHA-256, hex. */
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 is 64 hex digits')
      .transform((h) => h.toLowerCase())
      .optional(),
    node: z.string().min(1).optional(),
    /** Only what this execution ran and loaded: the process page. */
    execId: z.string().min(1).max(512).optional(),
    /** Loads at or after this time; with `until`, loads within the range. */
    since: timestamp.optional(),
    until: timestamp.optional(),
    /** Only loads by processes that have not exited. */
    running: z.boolean().optional(),
    /** Only libraries some vulnerable-version rule matched. */
    vulnerable: z.boolean().optional(),
    limit: z.number().int().min(1).max(10_000).default(200),
  })
  .strict()
  .default({ limit: 200 });

export type InventorySearchInput = z.input<typeof inventorySearchInputSchema>;
export type ValidInventoryFilters = z.output<typeof inventorySearchInputSchema>;

/** One executable run or library loaded by one process. */
export interface InventoryLoad {
  role: 'executable' | 'library';
  path: string;
  sha256?: string;
  buildId?: string;
  name?: string;
  version?: string;
  soname?: string;
  /** Why there is no hash: the file was gone or unreadable. */
  error?: string;
  /** Advisory ids of the vulnerable-version rules the file matched. */
  advisories: string[];
  /** When it was executed or loaded, in the store's sortable time form. */
  time?: string;
  nodeName?: string;
  execId: string;
  pid?: number;
  /** The executable of the process that loaded it. */
  binary?: string;
  /** The process has not exited. */
  running: boolean;
}

/**
 * One file among the matches (by path and hash): how many processes loaded it, how many of
 * them still run, and when it was last loaded: "is it gone?".
 */
export interface InventoryFile {
  role: 'executable' | 'library';
  path: string;
  sha256?: string;
  name?: string;
  version?: string;
  advisories: string[];
  nodes: string[];
  processes: number;
  runningProcesses: number;
  lastLoadedAt?: string;
}

export interface InventorySearchResult {
  loads: InventoryLoad[];
  files: InventoryFile[];
}
