import type Database from 'better-sqlite3';
import {
  toSortableTime,
  type Detection,
  type DetectionFilters,
  type TetragonProcess,
} from '@proctrail/schema';
import type { Finding } from '../../detection/engine';
import type { SourceInfo } from '../types';
import {
  detectionConditions,
  detectionInsertValues,
  storedDetection,
  toDetection,
  type DetectionRow,
} from '../shared/detection-rows';

const SELECT_DETECTIONS = `SELECT d.id, d.rule, d.severity, d.title, d.time, s.name AS source,
  d.node_name AS nodeName, d.exec_id AS execId, d.pid, d.binary,
  d.evidence_event_ids AS evidenceEventIds, d.ancestors, d.explanation
  FROM detections d JOIN sources s ON s.id = d.source_id`;

/** Detections and the ancestry rules need, in SQLite. */
export class SqliteDetectionQueries {
  private readonly insertRow: Database.Statement;
  private readonly chain: Database.Statement;
  private readonly execution: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT INTO detections (source_id, rule, severity, title, time, node_name, exec_id, pid,
         binary, dedupe_key, evidence_event_ids, ancestors, explanation)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.execution = db.prepare(
      'SELECT pid, binary FROM executions WHERE source_id = ? AND exec_id = ?',
    );
    // Walks parent_exec_id upwards; depth bounds a cycle that bad data could make.
    this.chain = db.prepare(
      `WITH RECURSIVE up(exec_id, parent_exec_id, process_json, depth) AS (
         SELECT exec_id, parent_exec_id, process_json, 0 FROM executions
         WHERE source_id = ? AND exec_id = ?
         UNION ALL
         SELECT e.exec_id, e.parent_exec_id, e.process_json, up.depth + 1
         FROM up JOIN executions e ON e.source_id = ? AND e.exec_id = up.parent_exec_id
         WHERE up.depth + 1 < ? AND up.parent_exec_id <> up.exec_id)
       SELECT process_json FROM up ORDER BY depth`,
    );
  }

  processChain(source: SourceInfo, execId: string, limit: number): TetragonProcess[] {
    const rows = this.chain.pluck().all(source.id, execId, source.id, limit) as string[];
    return rows.map((json) => JSON.parse(json) as TetragonProcess);
  }

  /**
   * The pid and binary a detection names: those of the execution its exec_id identifies (the
   * process its link opens), as the store knows it from that execution's own exec event. The
   * event that fired the rule may carry another image of the same pid: Tetragon exports have
   * been seen printing an exec_id with the process object of the image that replaced it by an
   * exec without fork. The finding's values stand when the store knows no such execution.
   */
  private ownProcess(source: SourceInfo, finding: Finding): { pid?: number; binary?: string } {
    const row = this.execution.get(source.id, finding.execId) as
      { pid: number | null; binary: string | null } | undefined;
    return {
      pid: row?.pid ?? finding.pid,
      binary: row?.binary ?? finding.binary,
    };
  }

  save(source: SourceInfo, findings: readonly Finding[]): Detection[] {
    return findings.length ? this.db.transaction(() => this.insert(source, findings))() : [];
  }

  /** Stores findings in the open transaction; returns those new to the store. */
  insert(source: SourceInfo, findings: readonly Finding[]): Detection[] {
    const created: Detection[] = [];
    for (const finding of findings) {
      const time = finding.time ?? toSortableTime(new Date().toISOString())!;
      const named = this.ownProcess(source, finding);
      const result = this.insertRow.run(...detectionInsertValues(source, finding, time, named));
      if (result.changes === 0) continue;
      created.push(storedDetection(Number(result.lastInsertRowid), source, time, finding, named));
    }
    return created;
  }

  list(filters: DetectionFilters): Detection[] {
    const { where, params } = detectionConditions(filters, (allowed) => ({
      sql: `d.severity IN (${allowed.map(() => '?').join(', ')})`,
      values: [...allowed],
    }));
    const sql = `${SELECT_DETECTIONS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY d.time DESC, d.id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, filters.limit) as DetectionRow[]).map(toDetection);
  }
}
