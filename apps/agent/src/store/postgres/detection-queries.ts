import type pg from 'pg';
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
import { run } from './sql';

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
  d.node_name AS "nodeName", d.exec_id AS "execId", d.pid, d."binary" AS "binary",
  d.evidence_event_ids AS "evidenceEventIds", d.ancestors, d.explanation
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

function present<T extends object>(value: T): T {
  const copy = { ...value };
  for (const key of Object.keys(copy) as Array<keyof T>) {
    if (copy[key] === undefined) delete copy[key];
  }
  return copy;
}

/** Detections and the ancestry rules need, in PostgreSQL; see SqliteDetectionQueries. */
export class PostgresDetectionQueries {
  constructor(private readonly pool: pg.Pool) {}

  async processChain(source: SourceInfo, execId: string, limit: number) {
    const rows = await run<{ process_json: string }>(
      this.pool,
      `WITH RECURSIVE up(exec_id, parent_exec_id, process_json, depth) AS (
         SELECT exec_id, parent_exec_id, process_json, 0 FROM executions
         WHERE source_id = ? AND exec_id = ?
         UNION ALL
         SELECT e.exec_id, e.parent_exec_id, e.process_json, up.depth + 1
         FROM up JOIN executions e ON e.source_id = ? AND e.exec_id = up.parent_exec_id
         WHERE up.depth + 1 < ? AND up.parent_exec_id <> up.exec_id)
       SELECT process_json FROM up ORDER BY depth`,
      [source.id, execId, source.id, limit],
    );
    return rows.map((row) => JSON.parse(row.process_json) as TetragonProcess);
  }

  /** See SqliteDetectionQueries.ownProcess. */
  private async ownProcess(source: SourceInfo, finding: Finding) {
    const [row] = await run<{ pid: number | null; binary: string | null }>(
      this.pool,
      'SELECT pid, "binary" FROM executions WHERE source_id = ? AND exec_id = ?',
      [source.id, finding.execId],
    );
    return { pid: row?.pid ?? finding.pid, binary: row?.binary ?? finding.binary };
  }

  async save(source: SourceInfo, findings: readonly Finding[]): Promise<Detection[]> {
    const created: Detection[] = [];
    for (const finding of findings) {
      const time = finding.time ?? toSortableTime(new Date().toISOString())!;
      const named = await this.ownProcess(source, finding);
      const [row] = await run<{ id: number }>(
        this.pool,
        `INSERT INTO detections (source_id, rule, severity, title, time, node_name, exec_id, pid,
           "binary", dedupe_key, evidence_event_ids, ancestors, explanation)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
        [
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
        ],
      );
      if (!row) continue;
      created.push(
        present<Detection>({
          id: row.id,
          rule: finding.rule,
          severity: finding.severity,
          title: finding.title,
          time,
          source: source.name,
          nodeName: finding.nodeName,
          execId: finding.execId,
          pid: named.pid,
          binary: named.binary,
          ancestors: finding.ancestors.map(present),
          evidenceEventIds: [...finding.evidenceEventIds],
          explanation: finding.explanation,
        }),
      );
    }
    return created;
  }

  async list(filters: DetectionFilters): Promise<Detection[]> {
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
      add('d.severity = ANY(?::text[])', DETECTION_SEVERITIES.slice(at));
    }
    if (filters.rule) add('d.rule = ?', filters.rule);
    if (filters.node) add('d.node_name = ?', filters.node);
    if (filters.since) add('d.time >= ?', toSortableTime(filters.since));
    if (filters.until) add('d.time <= ?', toSortableTime(filters.until));
    if (filters.before) {
      const { time, id } = filters.before;
      add('(d.time < ? OR (d.time = ? AND d.id < ?))', time, time, id);
    }
    const sql = `${SELECT_DETECTIONS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY d.time COLLATE "C" DESC, d.id DESC LIMIT ?`;
    return (await run<DetectionRow>(this.pool, sql, [...params, filters.limit])).map(toDetection);
  }
}
