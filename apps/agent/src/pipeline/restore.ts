import type { SnapshotProcess } from '@proctrail/bpf';
import { timeToEpochNs, type TetragonProcess } from '@proctrail/schema';
import type { BootClock } from '../process/clock';

/**
 * How much earlier than the process's /proc start a stored execution may seem to start and
 * still be its own: one 10 ms tick (/proc rounds down to ticks), and the difference between
 * the wall-clock offsets the two runs of the agent each took at start (BootClock: a few ms,
 * more on a loaded host). A pid reused within this margin could be taken for the old process.
 */
const START_MARGIN_NS = 10_000_000n + 40_000_000n;

/**
 * Matches the processes running now to the executions a previous run of the agent stored and
 * saw no exit of. A process keeps its exec_id when a stored execution has its pid and started
 * no earlier than the process did (its exec comes after its fork), give or take the margin
 * below; among several (a process that exec'd more than once), the latest is the image it
 * runs now.
 */
export function restoredExecutions(
  snapshot: readonly SnapshotProcess[],
  running: readonly TetragonProcess[],
  clock: BootClock,
): Map<number, TetragonProcess> {
  const byPid = new Map<number, TetragonProcess[]>();
  for (const process of running) {
    if (process.pid === undefined || !process.exec_id || !process.start_time) continue;
    byPid.set(process.pid, [...(byPid.get(process.pid) ?? []), process]);
  }

  const restored = new Map<number, TetragonProcess>();
  for (const proc of snapshot) {
    const startedNs = clock.toEpochNs(proc.startNs);
    const candidates = (byPid.get(proc.pid) ?? []).filter(
      (p) => timeToEpochNs(p.start_time!)! >= startedNs - START_MARGIN_NS,
    );
    const latest = candidates.at(-1);
    if (latest) restored.set(proc.pid, latest);
  }
  return restored;
}
