/**
 * Run as an unprivileged child by permissions.kernel.test.ts: tries to start the sensor and
 * prints what it got as one JSON line, then exits by itself.
 */
import { startSensor } from '../sensor';

try {
  const sensor = await startSensor();
  sensor.stop();
  console.log(JSON.stringify({ started: true }));
} catch (error) {
  const e = error as Error & { step?: string; errno?: number; code?: string };
  console.log(
    JSON.stringify({
      name: e.name,
      step: e.step,
      errno: e.errno,
      code: e.code,
      message: e.message,
    }),
  );
}
