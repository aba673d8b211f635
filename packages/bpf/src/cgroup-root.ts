/** Where the cgroup v2 hierarchy is mounted: the cgroup connect hooks attach to its root. */
import { readFileSync } from 'node:fs';

/** Hybrid hosts mount v2 at /sys/fs/cgroup/unified; unified ones at /sys/fs/cgroup. */
export function findCgroupV2Root(mounts = readFileSync('/proc/self/mounts', 'utf8')): string {
  const roots = mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup2')
    .map((fields) => fields[1]!);
  if (roots.length === 0) {
    throw new Error('no cgroup v2 hierarchy is mounted: the connect hooks need one');
  }
  return (
    roots.find((r) => r === '/sys/fs/cgroup/unified') ??
    roots.find((r) => r === '/sys/fs/cgroup') ??
    roots[0]!
  );
}
