/**
 * A cheap, real source of sensor events for browser tests and benchmarks: one process that
 * opens a watched file once and reads it again and again through that descriptor. The agent
 * records each read as a file event (a process_kprobe), so the rate of events is the rate of
 * reads, far beyond what spawning processes reaches on this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const READER = `
const fs = require('node:fs');
const [path, perSecond, total] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const fd = fs.openSync(path, 'r');
const buffer = Buffer.alloc(16);
let done = 0;
const readUpTo = (due) => { for (; done < due; done++) fs.readSync(fd, buffer, 0, 16, 0); };
if (perSecond <= 0) {
  readUpTo(total);
} else {
  // Paced: every 10 ms, catch up with the reads due since the start.
  const started = Date.now();
  const timer = setInterval(() => {
    readUpTo(Math.min(total, Math.floor(((Date.now() - started) * perSecond) / 1000)));
    if (done >= total) clearInterval(timer);
  }, 10);
}
`;

/**
 * Starts a process that reads `path` `total` times, `perSecond` reads a second (0: as fast as
 * it can). `path` must be watched by the agent (`--watch-path`).
 */
export function readFileRepeatedly(path: string, perSecond: number, total: number): ChildProcess {
  return spawn(process.execPath, ['-e', READER, path, String(perSecond), String(total)], {
    stdio: 'ignore',
  });
}
