import {
  DETECTION_SEVERITIES,
  toSortableTime,
  type Detection,
  type DetectionFilters,
} from '@proctrail/schema';
import type { Finding } from '../../detection/engine';
import type { SourceInfo } from '../types';

/**
 * A detection as both stores select it: the optional fields are NULL when absent and the arrays
 * are JSON text.
 */
export type DetectionRow = Omit<
  Detection,
  'nodeName' | 'pid' | 'binary' | 'ancestors' | 'evidenceEventIds'
> & {
  nodeName: string | null;
  pid: number | null;
  binary: string | null;
  evidenceEventIds: string;
  ancestors: string;
};

export function toDetection(row: DetectionRow): Detection {
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

/** The pid and binary a detection names; see SqliteDetectionQueries.ownProcess. */
export interface NamedProcess {
  pid?: number;
  binary?: string;
}

/**
 * The values of one detections row, in the column order both stores' INSERT lists:
 * source_id, rule, severity, title, time, node_name, exec_id, pid, binary, dedupe_key,
 * evidence_event_ids, ancestors, explanation.
 */
export function detectionInsertValues(
  source: SourceInfo,
  finding: Finding,
  time: string,
  named: NamedProcess,
): unknown[] {
  return [
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
  ];
}

/**
 * The detection a finding became, built from what was just inserted rather than read back:
 * the row holds exactly these values, and re-reading it cost more than the insert.
 */
export function storedDetection(
  id: number,
  source: SourceInfo,
  time: string,
  finding: Finding,
  named: NamedProcess,
): Detection {
  return present<Detection>({
    id,
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
  });
}

/**
 * The WHERE conditions of a detection list (table alias d) and their values in order. Only the
 * minimum-severity test differs between the dialects, so the store passes it in.
 */
export function detectionConditions(
  filters: DetectionFilters,
  severityIn: (allowed: readonly string[]) => { sql: string; values: unknown[] },
): { where: string[]; params: unknown[] } {
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
    const { sql, values } = severityIn(DETECTION_SEVERITIES.slice(at));
    add(sql, ...values);
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
  return { where, params };
}
