/**
 * exec_id, Tetragon's recipe: standard base64 of "<node_name>:<ktime_ns>:<pid>". ktime is the
 * boot-clock time of the exec (of the fork, for a child that never execs). Everywhere else
 * exec_ids are opaque: never parse them back into times or pids.
 */
export function execIdFor(nodeName: string, ktimeNs: bigint, pid: number): string {
  return Buffer.from(`${nodeName}:${ktimeNs}:${pid}`).toString('base64');
}

/** Clock ticks per second of /proc/<pid>/stat's start time on Linux (USER_HZ). */
export const USER_HZ = 100;

/**
 * The ktime Tetragon uses for a process found in /proc rather than seen starting: its start
 * time in clock ticks times 10^7 ns (10 ms steps), so such ids end in many zeros.
 */
export function procfsKtimeNs(startTimeTicks: bigint): bigint {
  return startTimeTicks * (1_000_000_000n / BigInt(USER_HZ));
}
