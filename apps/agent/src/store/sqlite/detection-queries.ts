import type Database from 'better-sqlite3';
import {
  DETECTION_SEVERITIES,
  toSortableTime,
  type Detection,
  type DetectionFilters,
  type DetectionSeverity,
  type TetragonProcess,
} from '@proctrail/schema';
import type { Finding } from '../../detection/engine';
import type { SourceInfo } from '../types';

interface DetectionRow {
  id: number;
  rule: string;
  severity: DetectionSeverity;
  title: string;
  time: string;
  source: string;
  nodeName: string | null;
  execId: string;
  pid: number | null;
  binary: string | null;
  evidenceEventIds: string;
  ancestors: string;
  explanation: string;
}

const SELECT_DETECTIONS = `SELECT d.id, d.rule, d.severity, d.title, d.time, s.name AS source,
  d.node_name AS nodeName, d.exec_id AS execId, d.pid, d.binary,
  d.evidence_event_ids AS evidenceEventIds, d.ancestors, d.explanation
  FROM detections d JOIN sources s ON s.id = d.source_id`;

function toDetection(row: DetectionRow): Detection {
  const detection: Detection = {
    id: row.id,
    rule: row.rule,
    severity: row.severity,
    title: row.title,
    time: row.time,
    source: row.source,
    execId: row.execId,
    ancestors: JSON.parse(row.ancestors) as Detection['ancestors'],
    evidenceEventIds: JSON.parse(row.evidenceEventIds) as number[],
    explanation: row.explanation,
  };
  if (row.nodeName !== null) detection.nodeName = row.nodeName;
  if (row.pid !== null) detection.pid = row.pid;
  if (row.binary !== null) detection.binary = row.binary;
  return detection;
}

/** Drops absent fields, as a JSON round trip through the store would. */
function present<T extends object>(value: T): T {
  const copy = { ...value };
  for (const key of Object.keys(copy) as Array<keyof T>) {
    if (copy[key] === undefined) delete copy[key];
  }
  return copy;
}

/**
 * The detection a finding became, built from what was just inserted rather than read back:
 * the row holds exactly these values, and re-reading it cost more than the insert.
 */
function storedDetection(id: number, source: SourceInfo, time: string, finding: Finding) {
  return present<Detection>({
    id,
    rule: finding.rule,
    severity: finding.severity,
    title: finding.title,
    time,
    source: source.name,
    nodeName: finding.nodeName,
    execId: finding.execId,
    pid: finding.pid,
    binary: finding.binary,
    ancestors: finding.ancestors.map(present),
    evidenceEventIds: [...finding.evidenceEventIds],
    explanation: finding.explanation,
  });
}

/** Detections and the ancestry rules need, in SQLite. */
export class SqliteDetectionQueries {
  private readonly insert: Database.Statement;
  private readonly chain: Database.Statement;
  private readonly execution: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
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
    const created: Detection[] = [];
    this.db.transaction(() => {
      for (const finding of findings) {
        const time = finding.time ?? toSortableTime(new Date().toISOString())!;
        const named = this.ownProcess(source, finding);
        const result = this.insert.run(
          source.id,
          finding.rule,
          finding.severity,
          finding.title,
          time,
          finding.nodeName ?? null,
          finding.execId,
          named.pid ?? null,
          named.binary ?? null,
          finding.dedupeKey,
          JSON.stringify(finding.evidenceEventIds),
          JSON.stringify(finding.ancestors),
          finding.explanation,
        );
        if (result.changes === 0) continue;
        created.push(
          storedDetection(Number(result.lastInsertRowid), source, time, { ...finding, ...named }),
        );
      }
    })();
    return created;
  }

  list(filters: DetectionFilters): Detection[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      where.push(sql);
      params.push(...values);
    };
    if (filters.execId) add('d.exec_id = ?', filters.execId);
    if (filters.severity) add('d.severity = ?', filters.severity);
    if (filters.minSeverity) {
      const at = DETECTION_SEVERITIES.indexOf(filters.minSeverity);
      const allowed = DETECTION_SEVERITIES.slice(at);
      add(`d.severity IN (${allowed.map(() => '?').join(', ')})`, ...allowed);
    }
    if (filters.rule) add('d.rule = ?', filters.rule);
    if (filters.node) add('d.node_name = ?', filters.node);
    if (filters.since) add('d.time >= ?', toSortableTime(filters.since));
    if (filters.until) add('d.time <= ?', toSortableTime(filters.until));
    if (filters.before) {
      // Keyset paging in the list's own order (time, then id, both descending).
      const { time, id } = filters.before;
      add('(d.time < ? OR (d.time = ? AND d.id < ?))', time, time, id);
    }
    const sql = `${SELECT_DETECTIONS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY d.time DESC, d.id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, filters.limit) as DetectionRow[]).map(toDetection);
  }
}
