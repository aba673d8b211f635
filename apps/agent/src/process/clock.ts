/**
 * Kernel records carry CLOCK_BOOTTIME nanoseconds; events carry wall-clock RFC 3339 times.
 * The offset between the two is taken once, at start.
 *
 * Limitation: Node reads CLOCK_MONOTONIC, not CLOCK_BOOTTIME; they differ by the time the
 * host spent suspended since boot, so on a laptop that slept the converted times are early
 * by that much. Servers do not suspend. A wall-clock step (NTP) after start is not followed.
 */
export class BootClock {
  private readonly wallMinusBootNs: bigint;

  constructor() {
    // The two clocks are read one after the other: a preemption between the reads (a loaded
    // host) would skew the offset by as long, and two runs of the agent would then disagree
    // on when a process started. Of a few readings, the most tightly bracketed one is kept.
    let best: { gapNs: bigint; offsetNs: bigint } | undefined;
    for (let i = 0; i < 5; i++) {
      const before = process.hrtime.bigint();
      const wallNs = BigInt(Date.now()) * 1_000_000n;
      const after = process.hrtime.bigint();
      const gapNs = after - before;
      if (!best || gapNs < best.gapNs) best = { gapNs, offsetNs: wallNs - (before + after) / 2n };
    }
    this.wallMinusBootNs = best!.offsetNs;
  }

  /** The boot-clock time as nanoseconds since the Unix epoch. */
  toEpochNs(bootNs: bigint): bigint {
    return bootNs + this.wallMinusBootNs;
  }

  /** The boot-clock time now. */
  nowBootNs(): bigint {
    return process.hrtime.bigint();
  }
}
