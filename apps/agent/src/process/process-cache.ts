import { execIdFor, type TetragonProcess } from '@proctrail/schema';

/**
 * One execution of a process as the agent knows it: the image a pid runs now, or ran until
 * it exited. `startNs` is the boot-clock start of the pid's life (its fork), which tells two
 * processes that reused one pid apart.
 */
export interface CachedExecution {
  execId: string;
  pid: number;
  startNs: bigint;
  /** How the agent learned of it: an exec it saw, a fork it saw, or /proc at start-up. */
  origin: 'exec' | 'fork' | 'procfs';
  /** The Tetragon process object events carry for it. */
  process: TetragonProcess;
  exited: boolean;
}

/**
 * Exited executions kept for their children's events, which embed the parent. Beyond this
 * the oldest are forgotten; a child of a forgotten parent still names its parent_exec_id.
 */
const EXITED_KEPT = 20_000;

/**
 * Which execution each pid runs, by the rules of Tetragon's exec_id: a fork makes a new
 * execution (the parent's image, a new pid); an exec makes a new execution whose parent is,
 * after a fork, the forking process, and otherwise the pid's previous image.
 */
export class ProcessCache {
  private readonly byPid = new Map<number, CachedExecution>();
  private readonly byExecId = new Map<string, CachedExecution>();
  private readonly exitedOrder: string[] = [];

  constructor(private readonly nodeName: string) {}

  get size(): number {
    return this.byExecId.size;
  }

  /** The execution a pid runs now, if its start time matches (pids are reused). */
  current(pid: number, startNs?: bigint): CachedExecution | undefined {
    const entry = this.byPid.get(pid);
    if (!entry || startNs === undefined) return entry;
    return sameStart(entry.startNs, startNs) ? entry : undefined;
  }

  byId(execId: string | undefined): CachedExecution | undefined {
    return execId ? this.byExecId.get(execId) : undefined;
  }

  execIdFor(ktimeNs: bigint, pid: number): string {
    return execIdFor(this.nodeName, ktimeNs, pid);
  }

  /** Makes `entry` the execution its pid runs now. */
  set(entry: CachedExecution): void {
    const previous = this.byPid.get(entry.pid);
    if (previous && previous !== entry && !previous.exited) {
      // The pid's previous image ended when this one replaced it.
      previous.exited = true;
      this.retire(previous);
    }
    this.byPid.set(entry.pid, entry);
    this.byExecId.set(entry.execId, entry);
  }

  /** Marks an execution as ended: its pid is free, its entry stays a while for its children. */
  exit(entry: CachedExecution): void {
    entry.exited = true;
    if (this.byPid.get(entry.pid) === entry) this.byPid.delete(entry.pid);
    this.retire(entry);
  }

  /** The chain of parents above an execution, nearest first, as far as the cache knows. */
  ancestorsOf(entry: CachedExecution, limit: number): TetragonProcess[] {
    const chain: TetragonProcess[] = [];
    let parent = this.byId(entry.process.parent_exec_id);
    while (parent && chain.length < limit && parent.process.parent_exec_id !== parent.execId) {
      chain.push(parent.process);
      parent = this.byId(parent.process.parent_exec_id);
    }
    return chain;
  }

  private retire(entry: CachedExecution): void {
    this.exitedOrder.push(entry.execId);
    while (this.exitedOrder.length > EXITED_KEPT) {
      const oldest = this.byExecId.get(this.exitedOrder.shift()!);
      if (oldest && oldest.exited) this.byExecId.delete(oldest.execId);
    }
  }
}

/**
 * /proc start times have 10 ms resolution (clock ticks), kernel records nanoseconds: two
 * starts within one tick are the same process start.
 */
const START_TOLERANCE_NS = 10_000_000n;

export function sameStart(a: bigint, b: bigint): boolean {
  const delta = a > b ? a - b : b - a;
  return delta <= START_TOLERANCE_NS;
}
