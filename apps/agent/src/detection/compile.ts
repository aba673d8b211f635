import {
  processFlags,
  timeToEpochNs,
  type FileEdge,
  type NetworkEdge,
  type TetragonProcess,
} from '@proctrail/schema';
import ipaddr from 'ipaddr.js';
import picomatch from 'picomatch';
import type { ProcessCondition, Rule, RuleMatch } from './rule-schema';

/** What a rule looks at: one event's subject, with its ancestry fetched only when needed. */
export interface RuleInput {
  process: TetragonProcess;
  /** Parent first, then grandparent, ... */
  ancestors(): readonly TetragonProcess[];
  network?: NetworkEdge;
  file?: FileEdge;
}

/** What made a match: the ancestor a condition named, and the workload's age at exec. */
export interface MatchFacts {
  ancestor?: TetragonProcess;
  workloadAgeSec?: number;
}

type ProcessTest = (process: TetragonProcess) => boolean;
type MatchTest = (input: RuleInput, facts: MatchFacts) => boolean;

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh']);
const BUSYBOX_SHELL = /^(sh|ash)(\s|$)/;

export function baseName(path: string | undefined): string {
  if (!path) return '';
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

export function isShell(process: TetragonProcess): boolean {
  const name = baseName(process.binary);
  if (SHELLS.has(name)) return true;
  return name === 'busybox' && BUSYBOX_SHELL.test(process.arguments ?? '');
}

export function inContainer(process: TetragonProcess): boolean {
  return Boolean(process.pod?.container?.id || process.pod?.name || process.docker);
}

/** Characters that make a pattern a glob; a pattern without them is compared as text. */
const GLOB_SYNTAX = /[*?[\]{}()!+@\\]/;

/**
 * A test for paths against globs, built once per rule: plain patterns go into a set, globs
 * become regular expressions. picomatch's own matcher re-normalises its input on every call,
 * which the hot path cannot afford for every exec and file event.
 */
export function pathTest(patterns: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const expressions: RegExp[] = [];
  for (const pattern of patterns) {
    if (GLOB_SYNTAX.test(pattern)) expressions.push(picomatch.makeRe(pattern, { dot: true }));
    else exact.add(pattern);
  }
  if (expressions.length === 0) return (path) => exact.has(path);
  return (path) => exact.has(path) || expressions.some((expression) => expression.test(path));
}

/** A glob with "/" matches the whole path, one without matches the file name. */
function globTest(patterns: string[]): (path: string | undefined) => boolean {
  const full = patterns.filter((p) => p.includes('/'));
  const names = patterns.filter((p) => !p.includes('/'));
  const matchFull = full.length ? pathTest(full) : undefined;
  const matchName = names.length ? pathTest(names) : undefined;
  return (path) => {
    if (!path) return false;
    if (matchFull?.(path)) return true;
    return matchName !== undefined && matchName(baseName(path));
  };
}

function isFileless(process: TetragonProcess): boolean {
  const binary = process.binary ?? '';
  const file = process.binary_properties?.file;
  return (
    binary.startsWith('/memfd:') ||
    binary.startsWith('memfd:') ||
    binary.endsWith(' (deleted)') ||
    file?.inode?.links === 0
  );
}

function hasSetuid(process: TetragonProcess): boolean {
  const props = process.binary_properties;
  if (!props) return false;
  return (
    props.setuid !== undefined || (props.privileges_changed ?? []).some((p) => p.includes('SETUID'))
  );
}

function realUid(process: TetragonProcess): number | undefined {
  return process.process_credentials?.uid ?? process.uid;
}

/** Each field of a condition becomes one small test; a process must pass them all. */
const PROCESS_FIELDS: {
  [K in keyof Required<ProcessCondition>]: (value: NonNullable<ProcessCondition[K]>) => ProcessTest;
} = {
  binary: (globs) => {
    const test = globTest(globs);
    return (p) => test(p.binary);
  },
  binaryNot: (globs) => {
    const test = globTest(globs);
    return (p) => !test(p.binary);
  },
  argumentsMatch: (pattern) => {
    const regex = new RegExp(pattern);
    return (p) => regex.test(p.arguments ?? '');
  },
  shell: (wanted) => (p) => isShell(p) === wanted,
  uid: (uids) => (p) => p.uid !== undefined && uids.includes(p.uid),
  uidNot: (uids) => (p) => p.uid !== undefined && !uids.includes(p.uid),
  flags: (tokens) => (p) => {
    const present = processFlags(p);
    return tokens.every((t) => present.includes(t));
  },
  inContainer: (wanted) => (p) => inContainer(p) === wanted,
  inInitTree: (wanted) => (p) => p.in_init_tree !== undefined && p.in_init_tree === wanted,
  execProbe: (wanted) => (p) => (p.pod?.container?.maybe_exec_probe === true) === wanted,
  stdioSocket: (wanted) => (p) => (p.stdio_sockets?.length ?? 0) > 0 === wanted,
  setuid: (wanted) => (p) => hasSetuid(p) === wanted,
  runByNonRoot: (wanted) => (p) => {
    const uid = realUid(p);
    return uid !== undefined && (uid !== 0) === wanted;
  },
  fileless: (wanted) => (p) => isFileless(p) === wanted,
};

/**
 * The order a condition's fields are tested in, cheapest and most selective first: a field
 * read before a glob, a glob before parsing the flags or running a regular expression. A
 * record, so a new field cannot be left out of it.
 */
const FIELD_RANK: Record<keyof ProcessCondition, number> = {
  inContainer: 0,
  inInitTree: 1,
  execProbe: 2,
  stdioSocket: 3,
  setuid: 4,
  fileless: 5,
  runByNonRoot: 6,
  uid: 7,
  uidNot: 8,
  shell: 9,
  binary: 10,
  binaryNot: 11,
  flags: 12,
  argumentsMatch: 13,
};
const FIELD_ORDER = (Object.keys(FIELD_RANK) as Array<keyof ProcessCondition>).sort(
  (a, b) => FIELD_RANK[a] - FIELD_RANK[b],
);

export function compileProcessCondition(condition: ProcessCondition): ProcessTest {
  const tests: ProcessTest[] = [];
  for (const field of FIELD_ORDER) {
    const value = condition[field];
    if (value === undefined) continue;
    const make = PROCESS_FIELDS[field] as (v: unknown) => ProcessTest;
    tests.push(make(value));
  }
  return (process) => tests.every((test) => test(process));
}

function parseRange(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const address = ipaddr.parse(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 address in dotted form as an unsigned 32-bit number; undefined for anything else. */
function ipv4Number(text: string): number | undefined {
  const parts = DOTTED_QUAD.exec(text);
  if (!parts) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const digits = parts[i]!;
    // Leading zeros read as octal in some parsers: leave such text to ipaddr.
    if (digits.length > 1 && digits.startsWith('0')) return undefined;
    const octet = Number(digits);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** IPv4 ranges as (network, mask) pairs of 32-bit numbers, so most tests parse nothing. */
function ipv4Ranges(parsed: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>) {
  return parsed
    .filter(([range]) => range.kind() === 'ipv4')
    .map(([range, bits]) => {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return { network: (ipv4Number(range.toString())! & mask) >>> 0, mask };
    });
}

/** Tests an address against ranges; IPv4-mapped IPv6 addresses count as IPv4. */
export function cidrTest(ranges: string[]): (address: string | undefined) => boolean {
  const parsed = ranges.map(parseRange);
  const v4 = ipv4Ranges(parsed);
  const inV4 = (value: number) => v4.some((r) => (value & r.mask) >>> 0 === r.network);
  return (text) => {
    if (!text) return false;
    const quad = ipv4Number(text);
    if (quad !== undefined) return inV4(quad);
    if (!ipaddr.isValid(text)) return false;
    let address = ipaddr.parse(text);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    return parsed.some(([range, bits]) => {
      return address.kind() === range.kind() && address.match(range, bits);
    });
  };
}

function startSec(text: string | undefined): number | undefined {
  const ns = text ? timeToEpochNs(text) : undefined;
  return ns === undefined ? undefined : Number(ns / 1_000_000n) / 1000;
}

/**
 * Seconds from the container's start, or else the workload root's (the oldest ancestor in
 * the same container), to the process's start. Limitation: a host process has no workload,
 * so timing conditions never hold for it.
 */
export function workloadAgeSec(input: RuleInput): number | undefined {
  const process = input.process;
  const started = startSec(process.start_time);
  if (started === undefined) return undefined;
  const containerStart = startSec(process.pod?.container?.start_time);
  if (containerStart !== undefined) return started - containerStart;
  if (!process.docker) return undefined;
  let root: TetragonProcess | undefined;
  for (const ancestor of input.ancestors()) {
    if (ancestor.docker !== process.docker) break;
    root = ancestor;
  }
  const rootStart = startSec(root?.start_time);
  return rootStart === undefined ? undefined : started - rootStart;
}

/**
 * Remembers a walk up the ancestry per subject process. The live pipeline hands every event of
 * an execution the same process object, and that execution's ancestors do not change: its
 * connects and file reads reuse what its exec found instead of walking the chain again.
 */
function perSubject<T>(walk: (input: RuleInput) => T): (input: RuleInput) => T {
  const known = new WeakMap<TetragonProcess, { result: T }>();
  return (input) => {
    const remembered = known.get(input.process);
    if (remembered) return remembered.result;
    const result = walk(input);
    known.set(input.process, { result });
    return result;
  };
}

/** Tests on the event itself run first: most events fail them without a look at ancestry. */
function compileMatch(match: RuleMatch): MatchTest {
  const tests: MatchTest[] = [];
  if (match.process) {
    const test = compileProcessCondition(match.process);
    tests.push((input) => test(input.process));
  }
  if (match.network) tests.push(compileNetwork(match.network));
  if (match.file) tests.push(compileFile(match.file));
  if (match.parent) {
    const test = compileProcessCondition(match.parent);
    tests.push((input) => {
      const parent = input.ancestors()[0];
      return parent !== undefined && test(parent);
    });
  }
  if (match.selfOrAncestor) {
    const test = compileProcessCondition(match.selfOrAncestor);
    const anyAncestor = perSubject((input) => input.ancestors().some(test));
    tests.push((input) => test(input.process) || anyAncestor(input));
  }
  if (match.ancestor) {
    const test = compileProcessCondition(match.ancestor);
    const nearest = perSubject((input) => input.ancestors().find(test));
    tests.push((input, facts) => {
      const found = nearest(input);
      if (found) facts.ancestor ??= found;
      return found !== undefined;
    });
  }
  if (match.noAncestor) {
    const test = compileProcessCondition(match.noAncestor);
    const anyAncestor = perSubject((input) => input.ancestors().some(test));
    tests.push((input) => !anyAncestor(input));
  }
  if (match.timing) {
    const min = match.timing.minSecondsSinceWorkloadStart;
    tests.push((input, facts) => {
      const age = workloadAgeSec(input);
      if (age === undefined || age < min) return false;
      facts.workloadAgeSec = age;
      return true;
    });
  }
  return (input, facts) => tests.every((test) => test(input, facts));
}

function compileNetwork(network: NonNullable<RuleMatch['network']>): MatchTest {
  const inside = network.remoteIn ? cidrTest(network.remoteIn) : undefined;
  const allowed = network.remoteNotIn ? cidrTest(network.remoteNotIn) : undefined;
  return (input) => {
    const edge = input.network;
    if (!edge || !network.direction.includes(edge.type as 'connect')) return false;
    if (network.remotePort && !network.remotePort.includes(edge.dport ?? -1)) return false;
    if (inside && !inside(edge.daddr)) return false;
    return !(allowed && (!edge.daddr || allowed(edge.daddr)));
  };
}

function compileFile(file: NonNullable<RuleMatch['file']>): MatchTest {
  const path = pathTest(file.path);
  const excluded = file.pathNot ? pathTest(file.pathNot) : () => false;
  return (input) => {
    const edge = input.file;
    if (!edge || !path(edge.path) || excluded(edge.path)) return false;
    return !file.operation || file.operation.includes(edge.operation as 'read');
  };
}

/** A rule ready to run: its alternatives and escalations as plain functions. */
export interface CompiledRule {
  rule: Rule;
  /** The facts of the first alternative that matched, or undefined. */
  test(input: RuleInput): MatchFacts | undefined;
  severityFor(input: RuleInput, facts: MatchFacts): Rule['severity'];
}

export function compileRule(rule: Rule): CompiledRule {
  const alternatives = (rule.anyOf ?? (rule.match ? [rule.match] : [{}])).map(compileMatch);
  const escalations = (rule.escalate ?? []).map((e) => ({
    severity: e.severity,
    test: compileMatch(e.match),
  }));
  return {
    rule,
    test(input) {
      for (const alternative of alternatives) {
        const facts: MatchFacts = {};
        if (alternative(input, facts)) return facts;
      }
      return undefined;
    },
    severityFor(input, facts) {
      for (const escalation of escalations) {
        if (escalation.test(input, facts)) return escalation.severity;
      }
      return rule.severity;
    },
  };
}
