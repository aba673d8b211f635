/**
 * Stopping everything a scenario started: the process it spawned and every process below it,
 * found through /proc before anything is killed (once a parent is gone its children are
 * re-parented and can no longer be traced back to it).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A pid and its start time in clock ticks: the pair stays unique when pids are reused. */
export interface ProcessIdentity {
  pid: number;
  startTicks: string;
}

interface ProcStat {
  parentPid: number;
  state: string;
  startTicks: string;
}

function readStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // ended while we looked
  }
  // The command name is in parentheses and may itself hold spaces or parentheses; the fields
  // after it start with the state (field 3 of proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, parentPid: Number(fields[1]), startTicks: fields[19]! };
}

export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat && { pid, startTicks: stat.startTicks };
}

/** The pid's descendants, children before grandchildren. */
export function descendantsOf(rootPid: number): ProcessIdentity[] {
  const childrenOf = new Map<number, ProcessIdentity[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const siblings = childrenOf.get(stat.parentPid) ?? [];
    siblings.push({ pid: Number(entry), startTicks: stat.startTicks });
    childrenOf.set(stat.parentPid, siblings);
  }
  const found: ProcessIdentity[] = [];
  const queue = [rootPid];
  while (queue.length) {
    for (const child of childrenOf.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Still the same process, and running rather than a zombie waiting to be reaped. */
export function isAlive(process: ProcessIdentity): boolean {
  const stat = readStat(process.pid);
  return stat !== undefined && stat.startTicks === process.startTicks && stat.state !== 'Z';
}

function signal(target: ProcessIdentity, name: NodeJS.Signals): void {
  if (!isAlive(target)) return;
  try {
    process.kill(target.pid, name);
  } catch {
    // ended in between
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilGone(everyone: ProcessIdentity[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (everyone.some(isAlive)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Ends `leader` and every descendant: SIGTERM first so each can exit with its own status,
 * SIGKILL for whatever still runs after `graceMs`. Resolves with what could not be ended
 * (empty when all is gone; zombies of our own children count as gone: we reap them).
 */
export async function stopProcessTree(
  leader: ProcessIdentity,
  graceMs = 3_000,
): Promise<ProcessIdentity[]> {
  const everyone = [leader, ...descendantsOf(leader.pid)];
  for (const member of everyone) signal(member, 'SIGTERM');
  if (await waitUntilGone(everyone, graceMs)) return [];
  // Processes started after the first look (a shell's child, say) are found again here.
  const remaining = [
    ...everyone,
    ...everyone.filter(isAlive).flatMap((member) => descendantsOf(member.pid)),
  ];
  for (const member of remaining) signal(member, 'SIGKILL');
  await waitUntilGone(remaining, graceMs);
  return remaining.filter(isAlive);
}
