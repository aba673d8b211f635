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
    const wallNs = BigInt(Date.now()) * 1_000_000n;
    this.wallMinusBootNs = wallNs - process.hrtime.bigint();
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
