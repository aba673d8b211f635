import type { Detection } from '@proctrail/schema';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../metrics/metrics';
import type { Store } from '../store/types';
import type { DetectionBus } from './detection-bus';
import { Detector } from './detector';
import { DetectionEngine } from './engine';
import { formatProblem, loadRulesDir } from './load-rules';
import type { VulnerabilityRule } from '../inventory/vulnerability-rules';
import { vulnerableLoadFinder } from '../inventory/vulnerable-loads';

export interface LiveDetectionsOptions {
  store: Store;
  logger: Logger;
  /** The rules folder; the built-in rules by default. */
  rulesDir?: string;
  bus?: DetectionBus;
  metrics?: AgentMetrics;
  /** Vulnerable-version rules: a library load they match is a detection too. */
  vulnerabilities?: readonly VulnerabilityRule[];
}

/** Counts a detection in proctrail_detections_total and hands it to live subscribers. */
export function announce(detections: Detection[], bus?: DetectionBus, metrics?: AgentMetrics) {
  for (const d of detections) metrics?.detectionsTotal.inc({ rule: d.rule, severity: d.severity });
  bus?.publish(detections);
}

/**
 * The agent's detections: rules loaded once at start (a rule with a problem is logged and
 * left out, the others run), evaluated on every stored batch with the process cache's
 * ancestry: the Agent's rules option.
 */
export function liveDetections(options: LiveDetectionsOptions): Detector {
  const logger = options.logger.child({ stage: 'detections' });
  const loaded = loadRulesDir(options.rulesDir);
  for (const problem of loaded.problems) {
    logger.warn({ problem: formatProblem(problem) }, 'rule rejected; the other rules run');
  }
  logger.info({ rules: loaded.rules.length }, 'detection rules loaded');
  const detector = new Detector(new DetectionEngine(loaded.rules), options.store, {
    onDetections: (detections) => {
      announce(detections, options.bus, options.metrics);
      for (const d of detections) {
        logger.info({ rule: d.rule, severity: d.severity, execId: d.execId }, d.title);
      }
    },
    alsoFind: options.vulnerabilities?.length
      ? vulnerableLoadFinder(options.vulnerabilities)
      : undefined,
  });
  return detector;
}
