/** The sensor's one error class: the failed step, the errno, and what to do (in the message). */

export interface NativeErrorFields {
  step?: string;
  errno?: number;
  code?: string;
  libbpfLog?: string;
}

export class SensorError extends Error {
  override readonly name = 'SensorError';
  /** "btf", "open <path>", "load <program>", "attach <program>", "ringbuf", ... */
  readonly step: string;
  /** Positive errno of the failure, e.g. 1 (EPERM). */
  readonly errno: number;
  /** Symbolic errno, e.g. "EPERM". */
  readonly code: string;
  /** What libbpf printed, the verifier's log of a refused program included. */
  readonly libbpfLog?: string;

  constructor(
    message: string,
    fields: Required<Pick<NativeErrorFields, 'step'>> & NativeErrorFields,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.step = fields.step;
    this.errno = fields.errno ?? 0;
    this.code = fields.code ?? '';
    if (fields.libbpfLog) this.libbpfLog = fields.libbpfLog;
  }

  /** Wraps what the binding threw; TypeErrors (bad arguments) pass through unchanged. */
  static fromNative(error: unknown, fallbackStep: string): Error {
    if (error instanceof TypeError || !(error instanceof Error)) {
      return error instanceof Error
        ? error
        : new SensorError(String(error), { step: fallbackStep });
    }
    const fields = error as Error & NativeErrorFields;
    return new SensorError(
      error.message,
      { ...fields, step: fields.step ?? fallbackStep, errno: fields.errno, code: fields.code },
      error,
    );
  }
}
