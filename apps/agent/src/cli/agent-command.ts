import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_WATCHED_PATHS, findCgroupV2Root } from '@proctrail/bpf';
import { epochNsToTime, subjectsOf } from '@proctrail/schema';
import { checkExposure, DEFAULT_LISTEN, parseListen } from '../api/listen-address';
import { startApiServer } from '../api/server';
import { DetectionBus } from '../detection/detection-bus';
import { liveDetections } from '../detection/live-detections';
import { JsonlExporter } from '../export/jsonl-exporter';
import { LiveBus } from '../live/live-bus';
import { createAgentMetrics, type AgentMetrics } from '../metrics/metrics';
import {
  formatProblem,
  loadVulnerabilityRules,
  type VulnerabilityRule,
} from '../inventory/vulnerability-rules';
import { Agent, type AgentCounters } from '../pipeline/agent';
import type { WriteBacklog } from '../pipeline/write-queue';
import { loadPolicySet, type CompiledPolicies } from '../policy/compile';
import { PolicyLoadError } from '../policy/load-policies';
import { PolicyRegistry } from '../policy/policy-registry';
import { clusterConfig, PodWatch } from '../container/pod-watch';
import type { IngestItem, Store } from '../store/types';
import { addDatabaseOption, describeStore, openStore, storeLocation } from './options';
import { stopSignal, tokenFrom } from './serve-command';
import { parseDuration, parseSize } from './units';

/** How often queue depths and kernel loss are read into the metrics. */
const METRICS_INTERVAL_MS = 1000;
/** Events the write queue holds in memory, by default, before it spills to files. */
const DEFAULT_QUEUE_MEMORY_EVENTS = 100_000;
/** Bytes of spill files, by default, beyond which events are dropped (and counted). */
const DEFAULT_QUEUE_SPILL_BYTES = 1_000_000_000;
const DEFAULT_SPILL_DIR = 'data/spill';
/** How often retention runs (and once at start). */
const RETENTION_INTERVAL_MS = 10 * 60_000;

interface AgentCommandOptions {
  db?: string;
  store?: string;
  listen: string;
  token?: string;
  nodeName?: string;
  watchPath: string[];
  export?: string;
  exportMaxMb: number;
  retain?: number;
  maxDbSize?: number;
  ancestors?: boolean;
  rules?: string;
  detections: boolean;
  policy: string[];
  policyDryRun?: boolean;
  spillDir?: string;
  queueMemoryEvents: number;
  queueSpillSize: number;
  inventory: boolean;
  vulnerabilities?: string;
  kubeconfig?: string;
}

export function registerAgentCommand(program: Command): void {
  addDatabaseOption(
    program
      .command('agent')
      .description('record what runs on this host (eBPF) into the database and serve the API')
      .option('--listen <host:port>', 'API address', DEFAULT_LISTEN)
      .option('--token <token>', 'require this bearer token (default: $PROCTRAIL_TOKEN)')
      .option('--node-name <name>', 'node name in exec_ids and events (default: the host name)')
      .option(
        '--watch-path <path>',
        'also record opens, reads and writes of this path (a trailing / watches a directory)',
        (value: string, list: string[]) => [...list, value],
        [],
      )
      .option('--export <file.jsonl>', 'also append events as Tetragon JSON lines to this file')
      .option('--export-max-mb <mb>', 'rotate the export file at this size', Number, 10)
      .option('--retain <duration>', 'delete events older than this (e.g. 30d)', parseDuration)
      .option(
        '--max-db-size <size>',
        'delete the oldest events beyond this size (e.g. 10GB)',
        parseSize,
      )
      .option('--ancestors', 'attach every ancestor to each event, as Tetragon --enable-ancestors')
      .option('--rules <dir>', 'detection rules folder (default: the built-in rules)')
      .option('--no-detections', 'do not run detection rules')
      .option(
        '--policy <path>',
        'enforce the prevention policies of this file or folder (kill at exec, refuse connects)',
        (value: string, list: string[]) => [...list, value],
        [],
      )
      .option('--policy-dry-run', 'record what the policies would block, block nothing')
      .option(
        '--spill-dir <dir>',
        `where events wait on disk while the store is down (default: $PROCTRAIL_SPILL_DIR or ${DEFAULT_SPILL_DIR}); a folder per node name inside`,
      )
      .option(
        '--queue-memory-events <n>',
        'events kept in memory while the store is down, before spilling to files',
        positiveInteger('--queue-memory-events'),
        DEFAULT_QUEUE_MEMORY_EVENTS,
      )
      .option(
        '--queue-spill-size <size>',
        'spill files at most (e.g. 1GB); newer events beyond it are dropped and counted',
        parseSize,
        DEFAULT_QUEUE_SPILL_BYTES,
      )
      .option('--no-inventory', 'do not hash binaries nor record library loads')
      .option(
        '--vulnerabilities <dir>',
        'vulnerable-version rules folder (default: the built-in rules)',
      )
      .option(
        '--kubeconfig <file>',
        "watch this node's pods through this cluster's API (in a pod: its service account)",
      ),
  ).action(async (options: AgentCommandOptions) => {
    process.exitCode = await runAgent(options);
  });
}

/** The vulnerable-version rules; a rule with a problem is logged and left out. */
function loadAgentVulnerabilityRules(logger: Logger, dir?: string): VulnerabilityRule[] {
  const loaded = loadVulnerabilityRules(dir);
  for (const problem of loaded.problems) {
    logger.warn({ problem: formatProblem(problem) }, 'vulnerability rule rejected');
  }
  logger.info({ rules: loaded.rules.length }, 'vulnerable-version rules loaded');
  return loaded.rules;
}

async function runAgent(options: AgentCommandOptions): Promise<number> {
  const logger = pino({ level: process.env.PROCTRAIL_LOG_LEVEL ?? 'info' }, pino.destination(2));
  const token = tokenFrom(options.token);
  // Refuse an exposed listener without a token, or a policy with a problem, before touching
  // the kernel: a policy is enforced as written or not at all.
  checkExposure(parseListen(options.listen), token);
  const policies = loadAgentPolicies(options);
  // Outside a cluster (no --kubeconfig, no service account) nothing is asked of any API.
  const cluster = clusterConfig(options.kubeconfig);

  const store = await openStore(options);
  const registry = new Registry();
  const metrics = createAgentMetrics(registry);
  const bus = new LiveBus({ store, metrics });
  const exporter = options.export
    ? new JsonlExporter(options.export, { maxBytes: options.exportMaxMb * 1_000_000 })
    : undefined;
  const nodeName = options.nodeName ?? hostname();
  const detectionBus = new DetectionBus();
  const vulnerabilities = options.inventory
    ? loadAgentVulnerabilityRules(logger, options.vulnerabilities)
    : [];
  const detector = options.detections
    ? liveDetections({
        store,
        logger,
        rulesDir: options.rules,
        bus: detectionBus,
        metrics,
        vulnerabilities,
      })
    : undefined;
  const policyRegistry = policies
    ? new PolicyRegistry(policies.summaries, (policy, action, outcome) =>
        metrics.enforcementsTotal.inc({ policy, action, outcome }),
      )
    : undefined;

  let agent: Agent | undefined;
  let pods: PodWatch | undefined;
  try {
    if (cluster) {
      pods = await PodWatch.start(cluster, { nodeName, logger: logger.child({ stage: 'pods' }) });
    }
    agent = await Agent.start({
      pods,
      store,
      logger,
      nodeName,
      watchedPaths: [...DEFAULT_WATCHED_PATHS, ...options.watchPath],
      ancestors: options.ancestors,
      policies,
      writeQueue: {
        memoryEvents: options.queueMemoryEvents,
        spillBytes: options.queueSpillSize,
        spillDir: spillDirOf(options.spillDir, nodeName),
      },
      inventory: options.inventory && { rules: vulnerabilities },
      sink: {
        publish(events) {
          bus.publish(events);
          exporter?.write(events);
        },
      },
      onBuilt: (items) => {
        countEvents(metrics, items, nodeName);
        policyRegistry?.count(items);
      },
      onWritten: (_result, latencyMs) =>
        metrics.storeBatchSeconds.observe({ store: storeLocation(options).kind }, latencyMs / 1000),
      rules: detector,
    });
    const running = agent;
    const server = await startApiServer({
      store,
      bus,
      detections: detectionBus,
      registry,
      listen: options.listen,
      token,
      logger,
      stats: {
        lostEvents: () => lostEvents(running.counters()),
        backlog: () => running.counters().backlog,
      },
      policies: policyRegistry,
    });
    logger.info({ db: describeStore(options), url: server.url, node: nodeName }, 'recording');

    const timers = [gaugeTimer(metrics, running), ...retentionTimers(store, options, logger)];
    const signal = await stopSignal();
    logger.info({ signal }, 'stopping');
    for (const timer of timers) clearInterval(timer);
    await running.stop();
    bus.close();
    detectionBus.close();
    await server.close();
    return 0;
  } finally {
    if (agent && !agent.stopped) await agent.stop();
    await pods?.stop();
    exporter?.close();
    await store.close();
  }
}

/** The --policy files compiled for the kernel; throws PolicyLoadError naming every problem. */
function loadAgentPolicies(options: AgentCommandOptions): CompiledPolicies | undefined {
  if (options.policy.length === 0) return undefined;
  const compiled = loadPolicySet(options.policy, {
    dryRun: options.policyDryRun,
    cgroupRoot: findCgroupV2Root(),
  });
  if (compiled.problems.length) throw new PolicyLoadError(compiled.problems);
  return compiled;
}

function countEvents(metrics: AgentMetrics, items: readonly IngestItem[], node: string): void {
  for (const item of items) {
    const binary = metrics.binaryLabel(subjectsOf(item.parsed).process?.binary);
    metrics.eventsTotal.inc({ type: item.parsed.kind, binary, node });
  }
}

function lostEvents(counters: AgentCounters) {
  const byReason: Record<string, number> = {
    ringbuf: counters.sensor.lost,
    decode: counters.sensor.decodeErrors,
    store: counters.storeFailures,
    store_backlog_full: counters.backlog?.droppedFull ?? 0,
    store_rejected: counters.backlog?.droppedRejected ?? 0,
  };
  return { total: Object.values(byReason).reduce((a, b) => a + b, 0), byReason };
}

/**
 * Reads queue depths and losses into the metrics every second. The agent's counters are
 * cumulative and Prometheus counters take increments, so each timer keeps what it reported.
 */
function gaugeTimer(metrics: AgentMetrics, agent: Agent): NodeJS.Timeout {
  const reported = new Map<string, number>();
  return setInterval(() => {
    const counters = agent.counters();
    metrics.queueDepth.set({ queue: 'store' }, counters.queueDepth);
    if (counters.backlog) reportBacklog(metrics, counters.backlog, reported);
    for (const [reason, total] of Object.entries(lostEvents(counters).byReason)) {
      const delta = total - (reported.get(reason) ?? 0);
      if (delta > 0) metrics.lostEventsTotal.inc({ reason }, delta);
      reported.set(reason, total);
    }
  }, METRICS_INTERVAL_MS);
}

function reportBacklog(
  metrics: AgentMetrics,
  backlog: WriteBacklog,
  reported: Map<string, number>,
): void {
  metrics.storeBacklogEvents.set({ where: 'memory' }, backlog.memoryEvents);
  metrics.storeBacklogEvents.set({ where: 'spill' }, backlog.spilledEvents);
  metrics.storeBacklogSpillBytes.set(backlog.spillBytes);
  metrics.storeBacklogOldestSeconds.set(backlog.oldestAgeSeconds);
  metrics.storeReachable.set(backlog.storeReachable ? 1 : 0);
  const retries = backlog.retries - (reported.get('retries') ?? 0);
  if (retries > 0) metrics.storeWriteRetriesTotal.inc(retries);
  reported.set('retries', backlog.retries);
}

/** The spill folder of this node: two agents on one host (tests, demos) keep theirs apart. */
function spillDirOf(option: string | undefined, nodeName: string): string {
  const base = resolve(option ?? process.env.PROCTRAIL_SPILL_DIR ?? DEFAULT_SPILL_DIR);
  return join(base, encodeURIComponent(nodeName));
}

function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1`);
    }
    return n;
  };
}

function retentionTimers(
  store: Store,
  options: AgentCommandOptions,
  logger: Logger,
): NodeJS.Timeout[] {
  if (!options.retain && !options.maxDbSize) return [];
  const prune = async () => {
    const before = options.retain
      ? epochNsToTime(BigInt(Date.now() - options.retain) * 1_000_000n)
      : undefined;
    const result = await store.prune({ before, maxBytes: options.maxDbSize });
    if (result.events || result.executions) logger.info(result, 'retention pruned');
  };
  void prune();
  return [setInterval(() => void prune(), RETENTION_INTERVAL_MS)];
}
