import { fileEdgesOf, hookName, networkEdgesOf, type FileEdge, type NetworkEdge } from './edges';
import type { EventBody } from './events';
import { parseTetragonEvent, type ParsedEvent } from './parse';
import type { TetragonProcess } from './process';

/**
 * One line per event in the spirit of `tetra getevents -o compact`: an emoji, a verb padded
 * to seven columns, where the process runs (namespace/pod, else the node), its binary, and
 * what happened. Pure, so the dashboard's live tail prints the same lines as the CLI.
 */

/**
 * Process arguments, paths and names are attacker-controlled; printed raw, an escape sequence
 * in them could rewrite the terminal. Control characters become \xNN escapes. Keep in sync
 * with apps/agent/src/cli/terminal-text.ts (this package cannot import the agent).
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

const NETWORK_MARKS: Record<string, string> = {
  connect: '🔌 connect',
  accept: '🔌 accept',
  listen: '🔌 listen',
  close: '🧹 close',
  sendmsg: '📤 sendmsg',
  recvmsg: '📥 recvmsg',
};

const FILE_MARKS: Record<string, string> = {
  open: '📬 open',
  read: '📚 read',
  write: '📝 write',
  truncate: '📝 truncate',
  mmap: '📬 mmap',
  close: '📪 close',
};

function mark(emoji: string, verb: string): string {
  return `${emoji} ${verb.padEnd(7)}`;
}

function marked(text: string): string {
  const [emoji = '', verb = ''] = text.split(' ');
  return mark(emoji, verb);
}

function whereOf(parsed: ParsedEvent, process: TetragonProcess | undefined): string {
  const pod = process?.pod;
  if (pod?.name) return escapeControl(`${pod.namespace ?? ''}/${pod.name}`);
  return escapeControl(parsed.envelope.node_name ?? '');
}

function endpoint(addr: string | undefined, port: number | undefined): string {
  const host = addr === undefined ? '?' : escapeControl(addr);
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? bracketed : `${bracketed}:${port}`;
}

function networkDetails(edge: NetworkEdge): string {
  const protocol = (edge.protocol ?? 'tcp').replace(/^IPPROTO_/, '').toLowerCase();
  const bytes = edge.bytesSent ?? edge.bytesReceived;
  const tail = bytes === undefined || edge.type === 'close' ? '' : ` bytes ${bytes}`;
  return (
    `${escapeControl(protocol)} ${endpoint(edge.saddr, edge.sport)} -> ` +
    `${endpoint(edge.daddr, edge.dport)}${tail}`
  );
}

function fileDetails(edge: FileEdge): string {
  const bytes = edge.bytes === undefined ? '' : ` ${edge.bytes} bytes`;
  return `${escapeControl(edge.path)}${bytes}`;
}

type Described = { mark: string; details: string };

/** The verb and details of a hook event: a network or file edge, else the hook's name. */
function hookEvent(parsed: ParsedEvent, fallback: Described): Described {
  const network = networkEdgesOf(parsed)[0];
  if (network) {
    const known = NETWORK_MARKS[network.type];
    return {
      mark: known ? marked(known) : mark('🔌', escapeControl(network.type)),
      details: networkDetails(network),
    };
  }
  const file = fileEdgesOf(parsed)[0];
  if (file) {
    const known = FILE_MARKS[file.operation];
    return {
      mark: known ? marked(known) : mark('📬', escapeControl(file.operation)),
      details: fileDetails(file),
    };
  }
  return fallback;
}

/** One small describer per kind: the verb, and the details after the binary. */
const DESCRIBERS: Record<string, (parsed: ParsedEvent, args: string) => Described> = {
  process_exec: (_, args) => ({ mark: mark('🚀', 'process'), details: args }),
  process_exit: (parsed, args) => {
    const body = parsed.body as EventBody<'process_exit'>;
    const how = body.signal ? escapeControl(body.signal) : String(body.status ?? 0);
    return { mark: mark('💥', 'exit'), details: args ? `${args} ${how}` : how };
  },
  process_kprobe: (parsed) => {
    const name = hookName((parsed.body as EventBody<'process_kprobe'>).function_name ?? '');
    return hookEvent(parsed, { mark: mark('❓', 'syscall'), details: escapeControl(name) });
  },
  process_lsm: (parsed) => {
    const name = (parsed.body as EventBody<'process_lsm'>).function_name ?? '';
    return hookEvent(parsed, { mark: mark('🔒', 'LSM'), details: escapeControl(name) });
  },
  process_tracepoint: (parsed) => {
    const body = parsed.body as EventBody<'process_tracepoint'>;
    const what = `${body.subsys ?? ''}/${body.event ?? ''}`;
    return { mark: mark('⁉️', 'tracepoint'), details: escapeControl(what) };
  },
  process_uprobe: (parsed) => {
    const body = parsed.body as EventBody<'process_uprobe'>;
    return {
      mark: mark('🕵️', 'uprobe'),
      details: escapeControl(`${body.path ?? ''} ${body.symbol ?? ''}`.trim()),
    };
  },
  process_usdt: (parsed) => {
    const body = parsed.body as EventBody<'process_usdt'>;
    const what = `${body.path ?? ''} ${body.provider ?? ''} ${body.name ?? ''}`.trim();
    return { mark: mark('🕵️', 'usdt'), details: escapeControl(what) };
  },
  process_loader: (parsed) => {
    const body = parsed.body as EventBody<'process_loader'>;
    return { mark: mark('🧬', 'loader'), details: escapeControl(body.path ?? '') };
  },
  process_throttle: (parsed) => {
    const body = parsed.body as EventBody<'process_throttle'>;
    const what = `${body.type ?? ''} ${body.cgroup ?? ''}`.trim();
    return { mark: mark('🧬', 'throttle'), details: escapeControl(what) };
  },
  rate_limit_info: (parsed) => {
    const body = parsed.body as EventBody<'rate_limit_info'>;
    const dropped = body.number_of_dropped_process_events ?? 0;
    return { mark: mark('🧬', 'ratelimit'), details: `${dropped} events dropped` };
  },
  process_connect: (parsed) => hookEvent(parsed, { mark: mark('🔌', 'connect'), details: '' }),
  process_close: (parsed) => hookEvent(parsed, { mark: mark('🧹', 'close'), details: '' }),
  process_listen: (parsed) => hookEvent(parsed, { mark: mark('🔌', 'listen'), details: '' }),
};

/** The compact line of a parsed event. */
export function compactLineOf(parsed: ParsedEvent): string {
  const body = parsed.body as { process?: TetragonProcess };
  const process = body.process;
  const args = escapeControl(process?.arguments ?? '');
  const described = DESCRIBERS[parsed.kind]!(parsed, args);
  const parts = [
    described.mark,
    whereOf(parsed, process),
    escapeControl(process?.binary ?? ''),
    described.details,
  ];
  return parts
    .filter((part, i) => i === 0 || part !== '')
    .join(' ')
    .trimEnd();
}

/**
 * The compact line of an event given as decoded JSON; a value that is not a Tetragon event
 * gets a line that says so, with the reason, rather than an exception: a tail keeps going.
 */
export function compactLine(value: unknown): string {
  const outcome = parseTetragonEvent(value);
  if (!outcome.ok) {
    const field = outcome.problem.field ? `${outcome.problem.field}: ` : '';
    return `${mark('❓', 'unknown')} ${escapeControl(field + outcome.problem.reason)}`;
  }
  return compactLineOf(outcome.parsed);
}
