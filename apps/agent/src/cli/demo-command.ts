import type { Command } from 'commander';
import type { Detection, ProcessNode, ProcessTree, ProcessTreeNode } from '@proctrail/schema';
import { createApiClient, type ApiClient } from '../api/client';
import { DEFAULT_LISTEN } from '../api/listen-address';
import {
  INTRUDER_COMMANDS,
  runLog4ShellScenario,
  type ScenarioResult,
  type ScenarioStep,
} from '../demo/log4shell/scenario';
import { DEFAULT_DASHBOARD_LISTEN } from './dashboard-command';
import { interruptOnSignals } from './interrupt';
import { tokenFrom } from './serve-command';
import { terminalSafe } from './terminal-text';
import { renderTree } from './tree-command';

export function registerDemoCommand(program: Command): void {
  const demo = program
    .command('demo')
    .description('stage an attack on this host, for the agent to record and the dashboard to show');
  demo
    .command('log4shell')
    .description(
      'a Java service exploited through a logged ${jndi:ldap://...} lookup: reverse shell, id, env, ' +
        'cat /etc/passwd; all on loopback, every process stopped at the end',
    )
    .option('--api <url>', "the running agent's API", `http://${DEFAULT_LISTEN}`)
    .option('--dashboard <url>', 'the dashboard to link to', `http://${DEFAULT_DASHBOARD_LISTEN}`)
    .option('--token <token>', 'bearer token for the API (default: $PROCTRAIL_TOKEN)')
    .option('--json', 'print what the agent recorded as JSON: { scenario, link, tree, detections }')
    .action(async (options: { api: string; dashboard: string; token?: string; json?: boolean }) => {
      process.exitCode = await runLog4ShellDemo(options);
    });
}

/** What the agent recorded of one run, as the API returns it. */
export interface RecordedStory {
  javaExecId: string;
  source: string;
  link: string;
  tree: ProcessTree;
  detections: Detection[];
}

const RECORDING_TIMEOUT_MS = 20_000;

async function runLog4ShellDemo(options: {
  api: string;
  dashboard: string;
  token?: string;
  json?: boolean;
}): Promise<number> {
  // Progress goes to standard error when standard output carries JSON.
  const say = options.json ? (text: string) => console.error(text) : console.log;
  const client = createApiClient({ url: options.api, token: tokenFrom(options.token) });
  const interrupt = interruptOnSignals();
  try {
    try {
      await client.trpc.stats.summary.query();
    } catch (error) {
      console.error(
        `proctrail demo: no agent answers at ${options.api} (${(error as Error).message}); ` +
          'start one first: ./scripts/start.sh, or npx proctrail agent',
      );
      return 1;
    }
    const startedAt = new Date().toISOString();
    let scenario: ScenarioResult;
    try {
      scenario = await runLog4ShellScenario({
        signal: interrupt.signal,
        onStep: (step) => say(describeStep(step)),
      });
    } catch (error) {
      console.error(
        `proctrail demo: ${(error as Error).message}; every process it started is stopped`,
      );
      return interrupt.signal.aborted ? 130 : 1;
    }
    if (scenario.leftRunning.length) {
      console.error(
        `proctrail demo: could not stop pids ${scenario.leftRunning.map((p) => p.pid).join(', ')}`,
      );
    }
    say('waiting for the agent to store the story ...');
    const story = await waitForStory(client, scenario, startedAt, options.dashboard);
    if (!story) {
      console.error(
        `proctrail demo: the agent at ${options.api} did not record the java process ` +
          `(pid ${scenario.javaPid}) within ${RECORDING_TIMEOUT_MS / 1000} s: is it an agent ` +
          '(`proctrail agent`), not `proctrail serve`?',
      );
      return 1;
    }
    if (options.json) {
      console.log(JSON.stringify({ scenario, ...story }, null, 2));
    } else {
      say('');
      // The ancestry above java is whatever ran the demo: the story starts at java.
      say(renderTree({ ...story.tree, ancestors: [] }));
      say('');
      say(describeDetections(story.detections));
      say('');
      say(`the story in the dashboard: ${story.link}`);
    }
    return 0;
  } finally {
    interrupt.release();
    await client.close();
  }
}

function describeStep(step: ScenarioStep): string {
  switch (step.step) {
    case 'service-started':
      return `java service started: pid ${step.javaPid}, listening on 127.0.0.1:${step.port}`;
    case 'exploit-sent':
      return `sent a request with the header X-Api-Version: ${step.exploitString}`;
    case 'lookup-answered':
      return `java looked up "${step.name}" at the directory stand-in 127.0.0.1:${step.directoryPort}, got the payload`;
    case 'shell-connected':
      return `reverse shell connected to 127.0.0.1:${step.shellPort}; typing ${INTRUDER_COMMANDS.join(', ')}`;
    case 'shell-closed':
      return step.closedByShell ? 'the shell exited' : 'the shell did not exit in time: closed it';
    case 'service-stopped':
      return 'java service and everything it started stopped';
  }
}

function* walk(nodes: ProcessTreeNode[]): Generator<ProcessTreeNode> {
  for (const node of nodes) {
    yield node;
    yield* walk(node.children);
  }
}

/** The process and its descendants: what the scenario started. */
function storyProcessesOf(tree: ProcessTree): ProcessNode[] {
  return [tree.process, ...walk(tree.children)];
}

/** Whether the stored tree holds the whole story: the file read at its end, and java's exit. */
function isComplete(tree: ProcessTree): boolean {
  const readPasswd = [...walk(tree.children)].some(
    (node) =>
      node.binary?.endsWith('/cat') && node.files.some((file) => file.path === '/etc/passwd'),
  );
  return readPasswd && tree.process.exit !== undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls the API until the java process's tree holds the whole story, then reads the
 * detections raised on its processes. Undefined when it never does.
 */
async function waitForStory(
  client: ApiClient,
  scenario: ScenarioResult,
  startedAt: string,
  dashboard: string,
): Promise<RecordedStory | undefined> {
  const deadline = Date.now() + RECORDING_TIMEOUT_MS;
  let java: ProcessNode | undefined;
  let tree: ProcessTree | undefined;
  while (Date.now() < deadline) {
    if (!java) {
      const page = await client.trpc.process.search.query({
        pid: scenario.javaPid,
        since: startedAt,
        limit: 10,
      });
      java = page.items.find((node) => node.binary?.endsWith('/java'));
    }
    if (java) {
      tree = await client.trpc.process.tree.query({ execId: java.exec_id, source: java.source });
      if (isComplete(tree)) break;
    }
    await sleep(200);
  }
  if (!java || !tree) return undefined;
  // Detections are written in the same batch as their evidence: complete tree, all there.
  const detections = (
    await Promise.all(
      storyProcessesOf(tree).map((node) =>
        client.trpc.detection.list.query({ execId: node.exec_id, limit: 100 }),
      ),
    )
  ).flat();
  const link = new URL('/process', dashboard);
  link.searchParams.set('execId', java.exec_id);
  link.searchParams.set('source', java.source);
  return { javaExecId: java.exec_id, source: java.source, link: link.toString(), tree, detections };
}

function describeDetections(detections: Detection[]): string {
  if (detections.length === 0) return 'detections: none';
  const lines = [`detections: ${detections.length}`];
  for (const detection of detections) {
    lines.push(
      `  [${detection.severity}] ${detection.rule} on ${terminalSafe(detection.binary ?? '?')} ` +
        `(pid ${detection.pid ?? '?'}): ${terminalSafe(detection.explanation)}`,
    );
  }
  return lines.join('\n');
}
