/**
 * Watched file paths, encoded for the kernel's matcher (src/bpf/match.h): a trailing '/' makes
 * a prefix, a '*' matches exactly one path component.
 */
import { constants, layouts, watchFlags } from './layout';

/** What is watched unless the caller says otherwise: credentials, keys, secrets. */
export const DEFAULT_WATCHED_PATHS: readonly string[] = [
  '/etc/passwd',
  '/etc/shadow',
  '/etc/sudoers',
  '/etc/ssh/',
  '/root/.ssh/',
  '/home/*/.ssh/',
  '/proc/*/environ',
  '/var/run/secrets/',
];

/** Checks a watch list; the error names the offending entry. */
export function validateWatchedPaths(paths: readonly string[]): void {
  if (!Array.isArray(paths)) throw new TypeError('watchedPaths must be an array of strings');
  if (paths.length > constants.PT_WATCH_MAX) {
    throw new RangeError(
      `watchedPaths holds ${paths.length} entries; at most ${constants.PT_WATCH_MAX}`,
    );
  }
  paths.forEach((path, i) => {
    if (typeof path !== 'string') throw new TypeError(`watchedPaths[${i}] must be a string`);
    if (!path.startsWith('/')) {
      throw new RangeError(`watchedPaths[${i}] (${JSON.stringify(path)}) must be absolute`);
    }
    const length = Buffer.byteLength(path);
    if (length >= constants.PT_WATCH_TEXT_MAX) {
      throw new RangeError(
        `watchedPaths[${i}] is ${length} bytes; at most ${constants.PT_WATCH_TEXT_MAX - 1}`,
      );
    }
    if (path.includes('\0')) throw new RangeError(`watchedPaths[${i}] contains a NUL byte`);
  });
}

/**
 * All PT_WATCH_MAX pt_watch_pattern slots, unused ones zeroed, then the pt_watch_tops filter of
 * the patterns' first components (the kernel drops an open whose first component is not in it
 * before building its path).
 */
export function encodeWatchedPaths(paths: readonly string[]): Buffer {
  validateWatchedPaths(paths);
  const slot = layouts.pt_watch_pattern;
  const out = Buffer.alloc(constants.PT_WATCH_MAX * slot.size + layouts.pt_watch_tops.size);

  paths.forEach((path, i) => {
    const at = i * slot.size;
    let flags = 0;
    if (path.endsWith('/')) flags |= watchFlags.prefix;
    if (path.includes('*')) flags |= watchFlags.wildcard;
    const length = out.write(path, at + slot.fields.text, 'utf8');
    out.writeUInt32LE(length, at + slot.fields.len);
    out.writeUInt32LE(flags, at + slot.fields.reserved);
  });
  encodeWatchTops(paths, out.subarray(constants.PT_WATCH_MAX * slot.size));
  return out;
}

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/**
 * The two bits of a path's first component in pt_watch_tops.bloom: FNV-1a of its length (capped
 * at PT_WATCH_TOP_BYTES + 1), then of its first PT_WATCH_TOP_BYTES bytes, then murmur3's
 * finalizer; bits 0-7 and 8-15 of the result. Keep in sync with top_may_match in
 * src/bpf/match.h.
 */
export function watchTopBits(component: Buffer): [number, number] {
  const maxBytes = constants.PT_WATCH_TOP_BYTES;
  let hash = FNV_OFFSET;
  hash = Math.imul(hash ^ Math.min(component.length, maxBytes + 1), FNV_PRIME) >>> 0;
  for (const byte of component.subarray(0, maxBytes)) {
    hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  }
  hash = (hash ^ (hash >>> 16)) >>> 0;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash = (hash ^ (hash >>> 13)) >>> 0;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return [hash & 0xff, (hash >>> 8) & 0xff];
}

/** A pattern's first component: between its leading '/' and the next '/' (or its end). */
function firstComponent(path: string): string {
  const end = path.indexOf('/', 1);
  return path.slice(1, end === -1 ? undefined : end);
}

function encodeWatchTops(paths: readonly string[], out: Buffer): void {
  const tops = layouts.pt_watch_tops;
  const bloom = [0n, 0n, 0n, 0n];
  let any = 0;
  for (const path of paths) {
    const top = firstComponent(path);
    // '*' matches any component, and "/" as a prefix any path: no first component to filter on.
    if (top.includes('*') || top === '') {
      any = 1;
      continue;
    }
    for (const bit of watchTopBits(Buffer.from(top, 'utf8'))) {
      bloom[bit >> 6] = bloom[bit >> 6]! | (1n << BigInt(bit & 63));
    }
  }
  bloom.forEach((word, i) => out.writeBigUInt64LE(word, tops.fields.bloom + i * 8));
  out.writeUInt32LE(any, tops.fields.any);
}
