import { DETECTION_SEVERITIES, type Detection, type DetectionSeverity } from '@proctrail/schema';

/**
 * Detections arranged for drawing: grouped by process, ordered, summarised for a node's
 * marker. Titles and explanations quote the traced processes (binaries, arguments): they are
 * only ever rendered as text (React children, d3 `.text()`), never as markup.
 */

/** Newest first: by event time, then by store id for detections of the same instant. */
export function newestFirst(detections: readonly Detection[]): Detection[] {
  return [...detections].sort((a, b) =>
    a.time === b.time ? b.id - a.id : a.time < b.time ? 1 : -1,
  );
}

/** Each process's detections (newest first), by exec_id; the same detection only once. */
export function detectionsByExecId(detections: readonly Detection[]): Map<string, Detection[]> {
  const seen = new Set<number>();
  const byExecId = new Map<string, Detection[]>();
  for (const detection of newestFirst(detections)) {
    if (seen.has(detection.id)) continue;
    seen.add(detection.id);
    const list = byExecId.get(detection.execId);
    if (list) list.push(detection);
    else byExecId.set(detection.execId, [detection]);
  }
  return byExecId;
}

/** The highest severity among `detections`; undefined when there are none. */
export function worstSeverity(detections: readonly Detection[]): DetectionSeverity | undefined {
  let worst = -1;
  for (const detection of detections) {
    worst = Math.max(worst, DETECTION_SEVERITIES.indexOf(detection.severity));
  }
  return worst < 0 ? undefined : DETECTION_SEVERITIES[worst];
}

/** A node marker's title text: one line per detection, "high: <title>". */
export function detectionsTooltip(detections: readonly Detection[]): string {
  return detections.map((d) => `${d.severity}: ${d.title}`).join('\n');
}
