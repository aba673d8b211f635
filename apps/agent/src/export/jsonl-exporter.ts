import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { StoredEvent } from '../store/types';

export interface JsonlExporterOptions {
  /** Rotate when the file would grow past this many bytes. Default 10 MB, as Tetragon's. */
  maxBytes?: number;
  /** Rotated files kept: FILE.1 (newest) to FILE.N. Default 5. */
  keep?: number;
}

/**
 * Appends stored events to a Tetragon JSON-lines file, the shape `tetra getevents` and
 * Proctrail's own import read, rotated by size like Tetragon's export file.
 */
export class JsonlExporter {
  private fd: number;
  private size: number;
  private readonly maxBytes: number;
  private readonly keep: number;

  constructor(
    private readonly file: string,
    options: JsonlExporterOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.keep = options.keep ?? 5;
    this.fd = openSync(file, 'a');
    this.size = fstatSync(this.fd).size;
  }

  write(events: readonly StoredEvent[]): void {
    for (const event of events) {
      const line = Buffer.from(`${event.json}\n`);
      if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
      writeSync(this.fd, line);
      this.size += line.length;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let n = this.keep - 1; n >= 1; n--) {
      if (existsSync(`${this.file}.${n}`)) renameSync(`${this.file}.${n}`, `${this.file}.${n + 1}`);
    }
    renameSync(this.file, `${this.file}.1`);
    this.fd = openSync(this.file, 'a');
    this.size = 0;
  }
}
