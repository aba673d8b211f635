import type pg from 'pg';
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
import { run } from './sql';

const SELECT_DETECTIONS = `SELECT d.id, d.rule, d.severity, d.title, d.time, s.name AS source,
  d.node_name AS "nodeName", d.exec_id AS "execId", d.pid, d."binary" AS "binary",
  d.evidence_event_ids AS "evidenceEventIds", d.ancestors, d.explanation
  FROM detections d JOIN sources s ON s.id = d.source_id`;

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
  private async ownProcess(db: pg.Pool | pg.PoolClient, source: SourceInfo, finding: Finding) {
    const [row] = await run<{ pid: number | null; binary: string | null }>(
      db,
      'SELECT pid, "binary" FROM executions WHERE source_id = ? AND exec_id = ?',
      [source.id, finding.execId],
    );
    return { pid: row?.pid ?? finding.pid, binary: row?.binary ?? finding.binary };
  }

  /**
   * Stores findings; returns those new to the store. `db`: the client of an open transaction
   * (a batch's, whose events fired them), else one statement at a time on the pool.
   */
  async save(
    source: SourceInfo,
    findings: readonly Finding[],
    db: pg.Pool | pg.PoolClient = this.pool,
  ): Promise<Detection[]> {
    const created: Detection[] = [];
    for (const finding of findings) {
      const time = finding.time ?? toSortableTime(new Date().toISOString())!;
      const named = await this.ownProcess(db, source, finding);
      const [row] = await run<{ id: number }>(
        db,
        `INSERT INTO detections (source_id, rule, severity, title, time, node_name, exec_id, pid,
           "binary", dedupe_key, evidence_event_ids, ancestors, explanation)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
        detectionInsertValues(source, finding, time, named),
      );
      if (!row) continue;
      created.push(storedDetection(row.id, source, time, finding, named));
    }
    return created;
  }

  async list(filters: DetectionFilters): Promise<Detection[]> {
    const { where, params } = detectionConditions(filters, (allowed) => ({
      sql: 'd.severity = ANY(?::text[])',
      values: [allowed],
    }));
    const sql = `${SELECT_DETECTIONS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY d.time COLLATE "C" DESC, d.id DESC LIMIT ?`;
    return (await run<DetectionRow>(this.pool, sql, [...params, filters.limit])).map(toDetection);
  }
}
