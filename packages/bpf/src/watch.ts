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

/** All PT_WATCH_MAX pt_watch_pattern slots, unused ones zeroed. */
export function encodeWatchedPaths(paths: readonly string[]): Buffer {
  validateWatchedPaths(paths);
  const slot = layouts.pt_watch_pattern;
  const out = Buffer.alloc(constants.PT_WATCH_MAX * slot.size);

  paths.forEach((path, i) => {
    const at = i * slot.size;
    let flags = 0;
    if (path.endsWith('/')) flags |= watchFlags.prefix;
    if (path.includes('*')) flags |= watchFlags.wildcard;
    const length = out.write(path, at + slot.fields.text, 'utf8');
    out.writeUInt32LE(length, at + slot.fields.len);
    out.writeUInt32LE(flags, at + slot.fields.reserved);
  });
  return out;
}
