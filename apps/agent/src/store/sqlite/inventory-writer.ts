import type Database from 'better-sqlite3';
import {
  softwareLoadOf,
  toSortableTime,
  type ParsedEvent,
  type SoftwareLoad,
} from '@proctrail/schema';
import type { SoftwareLoadRow, SourceInfo } from '../types';
import { NO_EVENT_ID, softwareLoadValues } from '../shared/software-load-values';

/**
 * One row per (source, execution, role, path). A later event about the same load (the hash of
 * an executable that came after its exec, an import of the same export) fills what the row
 * lacks and never erases a hash.
 */
const UPSERT_LOAD_SQL = `
INSERT INTO software_loads (source_id, event_id, exec_id, node_name, time, role, path, sha256,
  build_id, name, version, soname, error, advisories)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source_id, exec_id, role, path) DO UPDATE SET
  sha256 = coalesce(sha256, excluded.sha256),
  build_id = coalesce(build_id, excluded.build_id),
  name = coalesce(name, excluded.name),
  version = coalesce(version, excluded.version),
  soname = coalesce(soname, excluded.soname),
  error = CASE WHEN coalesce(sha256, excluded.sha256) IS NULL THEN excluded.error END,
  advisories = coalesce(excluded.advisories, advisories)`;

/** The software inventory's rows, written with the events that carry them. */
export class SqliteInventoryWriter {
  private readonly upsertLoad: Database.Statement;
  private readonly writeRowsAtOnce: (source: SourceInfo, rows: readonly SoftwareLoadRow[]) => void;

  constructor(db: Database.Database) {
    this.upsertLoad = db.prepare(UPSERT_LOAD_SQL);
    this.writeRowsAtOnce = db.transaction(
      (source: SourceInfo, rows: readonly SoftwareLoadRow[]) => {
        for (const row of rows) {
          const time = row.time ? (toSortableTime(row.time) ?? null) : null;
          this.run(source, NO_EVENT_ID, row.execId, row.nodeName ?? null, time, row);
        }
      },
    );
  }

  /** Loads recorded without events, in one transaction. */
  writeRows(source: SourceInfo, rows: readonly SoftwareLoadRow[]): void {
    this.writeRowsAtOnce(source, rows);
  }

  write(
    source: SourceInfo,
    parsed: ParsedEvent,
    eventId: number,
    execId: string | null,
    nodeName: string | null,
    time: string | null,
  ): void {
    if (!execId || (parsed.kind !== 'process_exec' && parsed.kind !== 'process_loader')) return;
    const load = softwareLoadOf(parsed);
    if (load) this.run(source, eventId, execId, nodeName, time, load);
  }

  private run(
    source: SourceInfo,
    eventId: number,
    execId: string,
    nodeName: string | null,
    time: string | null,
    load: SoftwareLoad,
  ): void {
    this.upsertLoad.run(source.id, ...softwareLoadValues(eventId, execId, nodeName, time, load));
  }
}
