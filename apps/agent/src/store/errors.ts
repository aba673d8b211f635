/** A store failure, with the statement that failed and the driver's error as `cause`. */
export class StoreError extends Error {
  readonly code: string;
  readonly sql?: string;

  constructor(code: string, message: string, options: { cause?: unknown; sql?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    if (options.sql !== undefined) this.sql = options.sql;
  }
}
