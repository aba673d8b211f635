import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ZodIssue } from 'zod';
import { unknownPlaceholders } from './explain';
import { ruleFileSchema, ruleSchema, type Rule } from './rule-schema';

/** Why part of a rule file was rejected: the file, the line, the field's dotted path. */
export interface RuleProblem {
  file: string;
  line: number;
  field: string;
  message: string;
}

export interface LoadedRules {
  rules: Rule[];
  problems: RuleProblem[];
}

/** The rules shipped with the agent: apps/agent/rules/*.yaml. */
export const BUILTIN_RULES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../rules');

/** The node at `path`, or the deepest node on the way there (a missing key's map). */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | null {
  let node = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === key);
      if (!pair) return node;
      node = (pair.value as Node) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number' && node.items[key]) {
      node = node.items[key] as Node;
    } else {
      return node;
    }
  }
  return node;
}

export function lineOf(
  root: Node | null,
  path: readonly PropertyKey[],
  lines: LineCounter,
): number {
  const offset = nodeAt(root, path)?.range?.[0] ?? 0;
  return lines.linePos(offset).line;
}

/** A zod issue as a problem at the line of the field it names. */
export function issueProblem(
  file: string,
  root: Node | null,
  lines: LineCounter,
  prefix: PropertyKey[],
  issue: ZodIssue,
): RuleProblem {
  const path = [...prefix, ...issue.path];
  // An unknown key is the field at fault: point at it rather than at its map.
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const fieldPath = keys.length ? [...path, keys[0]!] : path;
  return {
    file,
    line: lineOf(root, fieldPath, lines),
    field: fieldPath.join('.') || '(file)',
    message: issue.message,
  };
}

/**
 * Parses one rule file. A rule with a problem is left out and reported with its line and
 * field; the file's other rules are kept, so one typo does not disable every rule.
 */
export function parseRuleFile(text: string, file: string): LoadedRules {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    return {
      rules: [],
      problems: doc.errors.map((error) => ({
        file,
        line: lines.linePos(error.pos[0]).line,
        field: '(yaml)',
        message: error.message.split('\n')[0]!,
      })),
    };
  }
  const root = doc.contents as Node | null;
  const shape = ruleFileSchema.safeParse(doc.toJS());
  if (!shape.success) {
    return {
      rules: [],
      problems: shape.error.issues.map((i) => issueProblem(file, root, lines, [], i)),
    };
  }

  const loaded: LoadedRules = { rules: [], problems: [] };
  shape.data.rules.forEach((value, index) => {
    const prefix = ['rules', index];
    const parsed = ruleSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        loaded.problems.push(issueProblem(file, root, lines, prefix, issue));
      }
      return;
    }
    const unknown = unknownPlaceholders(parsed.data.explanation);
    if (unknown.length) {
      loaded.problems.push({
        file,
        line: lineOf(root, [...prefix, 'explanation'], lines),
        field: `rules.${index}.explanation`,
        message: `unknown placeholder {${unknown.join('}, {')}}`,
      });
      return;
    }
    loaded.rules.push(parsed.data);
  });
  return loaded;
}

/** Reads and parses one rule file; an unreadable file is a problem at line 1. */
export function loadRuleFile(file: string): LoadedRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return {
      rules: [],
      problems: [{ file, line: 1, field: '(file)', message: (error as Error).message }],
    };
  }
  return parseRuleFile(text, file);
}

/**
 * Every *.yaml / *.yml file of a folder, in name order. A rule whose name an earlier rule
 * already took is reported and left out.
 */
export function loadRulesDir(dir: string = BUILTIN_RULES_DIR): LoadedRules {
  const files = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
  const result: LoadedRules = { rules: [], problems: [] };
  const names = new Set<string>();
  for (const file of files) {
    const loaded = loadRuleFile(file);
    result.problems.push(...loaded.problems);
    for (const rule of loaded.rules) {
      if (names.has(rule.name)) {
        result.problems.push({
          file,
          line: 1,
          field: 'name',
          message: `rule ${rule.name} is defined twice`,
        });
        continue;
      }
      names.add(rule.name);
      result.rules.push(rule);
    }
  }
  return result;
}

/** "rules/x.yaml:12: rules.0.severity: Invalid enum value ..." */
export function formatProblem(problem: RuleProblem): string {
  return `${problem.file}:${problem.line}: ${problem.field}: ${problem.message}`;
}
