import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** One JSON value of an input, or why its text is not JSON, with the line it starts on. */
export type InputRecord = { line: number; value: unknown } | { line: number; error: string };

/** An input that could not be read at all (missing, unreadable, a broken gzip stream). */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${input}: ${message}`, options);
    this.name = 'InputError';
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];
/** Inputs not in JSON-lines form (one pretty-printed object, an array) are read whole. */
const DOCUMENT_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * The JSON values of a Tetragon export: JSON lines (what Tetragon writes), one pretty-printed
 * object or several in a row (as in its docs), or a JSON array; gzip-compressed or not, from
 * a file or from standard input ("-"). JSON lines are streamed, so memory stays flat however
 * large the file; the other forms are read whole.
 */
export async function* readInput(input: string): AsyncGenerator<InputRecord> {
  const lines = createInterface({ input: await openText(input), crlfDelay: Infinity });
  const iterator = lines[Symbol.asyncIterator]();
  let lineNumber = 0;
  const pending: string[] = [];

  try {
    // The first non-blank line tells the form; see startsDocument.
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      lineNumber++;
      pending.push(next.value);
      if (next.value.trim()) break;
    }
    const first = pending.at(-1)!;
    if (startsDocument(first)) {
      yield* readDocument(input, pending, iterator, lineNumber - pending.length + 1);
      return;
    }
    yield parseLine(first, lineNumber);
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      lineNumber++;
      if (next.value.trim()) yield parseLine(next.value, lineNumber);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      input,
      `read failed after line ${lineNumber}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  } finally {
    lines.close();
  }
}

async function openText(input: string): Promise<Readable> {
  let stream: Readable;
  if (input === '-') {
    stream = process.stdin;
  } else {
    try {
      const handle = await open(input, 'r');
      await handle.close();
    } catch (error) {
      throw new InputError(input, (error as Error).message, { cause: error });
    }
    stream = createReadStream(input);
  }
  const { head, whole } = await peek(stream);
  const gzipped = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  const text = gzipped ? whole.pipe(createGunzip()) : whole;
  text.setEncoding('utf8');
  return text;
}

/** Reads a stream's first chunk, and gives back a stream that still starts with it. */
async function peek(stream: Readable): Promise<{ head: Buffer; whole: Readable }> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Buffer);
  async function* replay() {
    if (head.length) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  return { head, whole: Readable.from(replay(), { objectMode: false }) };
}

/**
 * Whether the first non-blank line opens a document rather than being a JSON line: an array
 * (on one line or many), or a lone "{", which is how every pretty-printer (jq, protojson's
 * multiline form, Python) starts an object. Anything else is JSON lines, so a first line that
 * is broken or cut short is skipped alone instead of swallowing the lines after it.
 */
function startsDocument(line: string): boolean {
  const text = line.trim();
  return text.startsWith('[') || text === '{';
}

function parseLine(text: string, line: number): InputRecord {
  try {
    return { line, value: JSON.parse(text) };
  } catch (error) {
    return { line, error: `not JSON: ${(error as Error).message}` };
  }
}

async function* readDocument(
  input: string,
  head: string[],
  rest: AsyncIterator<string>,
  firstLine: number,
): AsyncGenerator<InputRecord> {
  const parts = [...head];
  let size = parts.reduce((n, l) => n + l.length + 1, 0);
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    parts.push(next.value);
    size += next.value.length + 1;
    if (size > DOCUMENT_LIMIT_BYTES) {
      throw new InputError(input, `not JSON lines, and larger than ${DOCUMENT_LIMIT_BYTES} bytes`);
    }
  }
  yield* splitDocument(parts.join('\n'), firstLine);
}

/**
 * Splits a document into its top-level JSON values (or, for an array, its elements), each
 * with the line it starts on, so that one broken object is reported and skipped alone.
 */
export function* splitDocument(text: string, firstLine = 1): Generator<InputRecord> {
  let line = firstLine;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let startLine = line;
  let base = 0; // depth at which values start: 1 inside a top-level array

  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
    } else if (c === '[' && depth === 0 && start < 0) {
      base = 1;
      depth = 1;
      continue;
    } else if (c === '{' || c === '[') {
      if (depth === base) {
        start = i;
        startLine = line;
      }
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === base && start >= 0) {
        yield parseLine(text.slice(start, i + 1), startLine);
        start = -1;
      } else if (depth < base) {
        base = 0;
        depth = 0;
      }
    } else if (depth === base && !/[\s,]/.test(c)) {
      yield { line, error: `unexpected character ${JSON.stringify(c)} between JSON values` };
      return;
    }
  }
  if (start >= 0) yield { line: startLine, error: 'incomplete JSON value at the end of the input' };
}
