import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { policyFileSchema, policySchema, type Policy } from './policy-schema';

/** Why part of a policy file was rejected: the file, the line, the field's dotted path. */
export interface PolicyProblem {
  file: string;
  line: number;
  field: string;
  message: string;
}

/** A valid policy, and where it was written. */
export interface SourcedPolicy extends Policy {
  file: string;
  line: number;
}

export interface LoadedPolicies {
  policies: SourcedPolicy[];
  problems: PolicyProblem[];
}

/** The example policies shipped with the agent: apps/agent/policies/*.yaml. */
export const EXAMPLE_POLICIES_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../policies',
);

/** The node at `path`, or the deepest node on the way there (a missing key's map). */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | null {
  let node = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === key);
      if (!pair) return node;
      // An unknown key is the field at fault: its key, since its value may be anything.
      node = (pair.value as Node) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number' && node.items[key]) {
      node = node.items[key] as Node;
    } else {
      return node;
    }
  }
  return node;
}

interface Located {
  file: string;
  root: Node | null;
  lines: LineCounter;
}

function problemAt(at: Located, path: readonly PropertyKey[], message: string): PolicyProblem {
  const offset = nodeAt(at.root, path)?.range?.[0] ?? 0;
  return {
    file: at.file,
    line: at.lines.linePos(offset).line,
    field: path.join('.') || '(file)',
    message,
  };
}

type Issue = { path: PropertyKey[]; message: string; code: string; keys?: string[] };

function issueProblems(at: Located, prefix: PropertyKey[], issues: Issue[]): PolicyProblem[] {
  return issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const field = issue.code === 'unrecognized_keys' && issue.keys?.length ? [issue.keys[0]!] : [];
    return problemAt(at, [...path, ...field], issue.message);
  });
}

/**
 * Parses one policy file. Unlike detection rules, a policy with a problem is never loaded in a
 * weaker form: the caller refuses the whole set (see loadPolicies).
 */
export function parsePolicyFile(text: string, file: string): LoadedPolicies {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    return {
      policies: [],
      problems: doc.errors.map((error) => ({
        file,
        line: lines.linePos(error.pos[0]).line,
        field: '(yaml)',
        message: error.message.split('\n')[0]!,
      })),
    };
  }
  const at: Located = { file, root: doc.contents as Node | null, lines };
  const shape = policyFileSchema.safeParse(doc.toJS());
  if (!shape.success) {
    return { policies: [], problems: issueProblems(at, [], shape.error.issues as Issue[]) };
  }
  const loaded: LoadedPolicies = { policies: [], problems: [] };
  shape.data.policies.forEach((value, index) => {
    const prefix = ['policies', index];
    const parsed = policySchema.safeParse(value);
    if (!parsed.success) {
      loaded.problems.push(...issueProblems(at, prefix, parsed.error.issues as Issue[]));
      return;
    }
    const line = problemAt(at, prefix, '').line;
    loaded.policies.push({ ...parsed.data, file, line });
  });
  return loaded;
}

/** Reads and parses one policy file; an unreadable file is a problem at line 1. */
export function loadPolicyFile(file: string): LoadedPolicies {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return {
      policies: [],
      problems: [{ file, line: 1, field: '(file)', message: (error as Error).message }],
    };
  }
  return parsePolicyFile(text, file);
}

function filesOf(path: string): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
  } catch {
    return [path]; // loadPolicyFile reports what is wrong with the path
  }
  return readdirSync(path)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(path, name));
}

/**
 * Policy files (or folders of *.yaml) in order; names must be unique across all of them. The
 * problems are every file's; callers that enforce must refuse to start when there is one.
 */
export function loadPolicies(paths: readonly string[]): LoadedPolicies {
  const result: LoadedPolicies = { policies: [], problems: [] };
  const names = new Map<string, string>();
  for (const file of paths.flatMap(filesOf)) {
    const loaded = loadPolicyFile(file);
    result.problems.push(...loaded.problems);
    for (const policy of loaded.policies) {
      const first = names.get(policy.name);
      if (first) {
        result.problems.push({
          file,
          line: policy.line,
          field: 'name',
          message: `policy ${policy.name} is already defined in ${first}`,
        });
        continue;
      }
      names.set(policy.name, `${file}:${policy.line}`);
      result.policies.push(policy);
    }
  }
  return result;
}

/** "policies/x.yaml:12: policies.0.on: no hook on this kernel ..." */
export function formatPolicyProblem(problem: PolicyProblem): string {
  return `${problem.file}:${problem.line}: ${problem.field}: ${problem.message}`;
}

/** Thrown by the agent when a policy file has a problem: it enforces all or nothing. */
export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(
      `policies rejected, the agent does not start:\n${problems.map(formatPolicyProblem).join('\n')}`,
    );
  }
}
