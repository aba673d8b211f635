/**
 * What a file held when it was hashed: SHA-256, ELF build-id and SONAME, a jar's manifest
 * versions, and the identity (device, inode, modification time, size) that the cache keys on.
 * The file is opened once; its identity, hash and facts all come from that one open file.
 */
import { createHash } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { readElfFacts } from './elf';
import { readJarManifest, type JarManifest } from './jar-manifest';

export interface FileFacts {
  /** "device:inode:mtimeNs:size": a file rewritten in place gets a new identity. */
  identity: string;
  sha256: string;
  size: number;
  buildId?: string;
  soname?: string;
  manifest?: JarManifest;
}

/** Files larger than this are not hashed: their load is recorded with an error instead. */
export const HASHED_BYTES_MAX = 1024 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/** Why a file has no facts: gone (ENOENT), too large, not a regular file, unreadable, or the
 * hashing queue was full. */
export class FileFactsError extends Error {
  constructor(
    readonly path: string,
    readonly reason: 'gone' | 'too-large' | 'not-a-file' | 'unreadable' | 'overloaded',
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${reason}`, options);
    this.name = 'FileFactsError';
  }
}

export function identityOf(stats: Pick<BigIntStats, 'dev' | 'ino' | 'mtimeNs' | 'size'>): string {
  return `${stats.dev}:${stats.ino}:${stats.mtimeNs}:${stats.size}`;
}

async function sha256Of(file: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(size, 1)));
  let position = 0;
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
    if (position > HASHED_BYTES_MAX) throw new RangeError('the file grew while it was hashed');
  }
  return hash.digest('hex');
}

const ARCHIVE = /\.(jar|war|ear)$/i;

/**
 * Opens `path` (O_NONBLOCK: a FIFO named like a library must not block the agent) and reads
 * its facts. `namedAs` is the path the file is known by, when `path` is a /proc alias of it:
 * it decides whether the file is read as an archive.
 */
export async function readFileFacts(path: string, namedAs: string = path): Promise<FileFacts> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' || code === 'ESRCH' ? 'gone' : 'unreadable';
    throw new FileFactsError(namedAs, reason, { cause: error });
  }
  try {
    const stats = await file.stat({ bigint: true });
    if (!stats.isFile()) throw new FileFactsError(namedAs, 'not-a-file');
    if (stats.size > BigInt(HASHED_BYTES_MAX)) throw new FileFactsError(namedAs, 'too-large');
    const size = Number(stats.size);
    const facts: FileFacts = {
      identity: identityOf(stats),
      sha256: await sha256Of(file, size),
      size,
    };
    const elf = await readElfFacts(file, size);
    if (elf.buildId) facts.buildId = elf.buildId;
    if (elf.soname) facts.soname = elf.soname;
    if (ARCHIVE.test(namedAs)) {
      // A jar without a readable manifest is still a load worth recording: no version then.
      const manifest = await readJarManifest(file.fd).catch(() => undefined);
      if (manifest && Object.keys(manifest).length) facts.manifest = manifest;
    }
    return facts;
  } catch (error) {
    if (error instanceof FileFactsError) throw error;
    throw new FileFactsError(namedAs, 'unreadable', { cause: error });
  } finally {
    await file.close();
  }
}
