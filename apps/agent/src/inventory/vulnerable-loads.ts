/**
 * Vulnerable library loads as detections: a stored process_loader event whose library matches
 * a vulnerable-version rule (name glob and version range) becomes a finding of that rule, once
 * per process and path. The rules are matched again here, on the event's own software facts,
 * so that events imported from a Proctrail export are judged by today's rules too.
 */
import type { EventBody, ParsedEvent } from '@proctrail/schema';
import type { EngineEvent, Finding } from '../detection/engine';
import { vulnerabilitiesOf, type VulnerabilityRule } from './vulnerability-rules';

const ANCESTORS_KEPT = 8;

/** Findings of the vulnerable-version rules about one stored event. */
export function vulnerableLoadFinder(rules: readonly VulnerabilityRule[]): {
  wants: (parsed: ParsedEvent) => boolean;
  find: (event: EngineEvent) => Finding[];
} {
  const wants = (parsed: ParsedEvent) =>
    rules.length > 0 &&
    parsed.kind === 'process_loader' &&
    !!(parsed.body as EventBody<'process_loader'>).software?.version;
  return { wants, find: (event) => findingsOf(event, rules, wants) };
}

function findingsOf(
  event: EngineEvent,
  rules: readonly VulnerabilityRule[],
  wants: (parsed: ParsedEvent) => boolean,
): Finding[] {
  if (!wants(event.parsed)) return [];
  const body = event.parsed.body as EventBody<'process_loader'>;
  const process = body.process;
  const software = body.software;
  const path = body.path;
  if (!process?.exec_id || !path || !software?.version) return [];
  const names = [software.name, software.title, software.bundle_name, software.soname].filter(
    (name): name is string => !!name,
  );
  return vulnerabilitiesOf({ names, version: software.version }, rules).map((rule) => ({
    rule: rule.name,
    severity: rule.severity,
    title: `Vulnerable library loaded: ${software.name ?? path} ${software.version}`,
    execId: process.exec_id!,
    pid: process.pid,
    binary: process.binary,
    nodeName: event.parsed.envelope.node_name,
    time: event.time,
    ancestors: event
      .ancestors()
      .slice(0, ANCESTORS_KEPT)
      .map((a) => ({ execId: a.exec_id, pid: a.pid, binary: a.binary })),
    evidenceEventIds: [event.eventId],
    explanation:
      `${process.binary ?? 'a process'} (pid ${process.pid ?? '?'}) loaded ${path}, ` +
      `${software.name ?? 'a library'} ${software.version}, in the range ${rule.versions.text} ` +
      `of ${rule.advisories.join(', ')}. ${rule.note}`,
    dedupeKey: path,
  }));
}
