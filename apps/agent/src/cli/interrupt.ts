export interface Interrupt {
  signal: AbortSignal;
  /** Stops listening for the signals (when the command ends without being interrupted). */
  release(): void;
}

/**
 * Aborts on the first Ctrl-C (SIGINT) or SIGTERM, for commands that end cleanly when
 * interrupted: output flushed, whatever they started stopped.
 */
export function interruptOnSignals(): Interrupt {
  const controller = new AbortController();
  const stop = () => controller.abort();
  const release = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  controller.signal.addEventListener('abort', release);
  return { signal: controller.signal, release };
}
