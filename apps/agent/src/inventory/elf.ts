/**
 * What an ELF file says of itself, read from its program headers: the GNU build-id (a note)
 * and a shared object's SONAME (the dynamic section). Everything here is attacker data: every
 * offset and size is checked against the file and bounded before it is read.
 */
import type { FileHandle } from 'node:fs/promises';

export interface ElfFacts {
  /** NT_GNU_BUILD_ID, hex. */
  buildId?: string;
  /** DT_SONAME of a shared object. */
  soname?: string;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_NOTE = 4;
const DT_NULL = 0;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const NT_GNU_BUILD_ID = 3;
/** Program headers read at most: real files have about a dozen. */
const PROGRAM_HEADERS_MAX = 128;
/** Bytes of a note segment or a dynamic section read at most. */
const SEGMENT_BYTES_MAX = 64 * 1024;
const SONAME_BYTES_MAX = 256;

interface ProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  fileSize: number;
  align: number;
}

/** Reads the ELF layout's integers in the file's class (32/64-bit) and byte order. */
class ElfReader {
  constructor(
    readonly is64: boolean,
    readonly littleEndian: boolean,
  ) {}

  u16(b: Buffer, at: number): number {
    return this.littleEndian ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  u32(b: Buffer, at: number): number {
    return this.littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  /** An address or an offset: 64-bit ones beyond 2^53 make no sense in a file, and become NaN. */
  word(b: Buffer, at: number): number {
    if (!this.is64) return this.u32(b, at);
    const value = this.littleEndian ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(value);
  }

  programHeader(b: Buffer, at: number): ProgramHeader {
    return this.is64
      ? {
          type: this.u32(b, at),
          offset: this.word(b, at + 8),
          vaddr: this.word(b, at + 16),
          fileSize: this.word(b, at + 32),
          align: this.word(b, at + 48),
        }
      : {
          type: this.u32(b, at),
          offset: this.u32(b, at + 4),
          vaddr: this.u32(b, at + 8),
          fileSize: this.u32(b, at + 16),
          align: this.u32(b, at + 28),
        };
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The ELF header's reader and program headers; undefined when the file is not ELF. */
async function programHeaders(
  file: FileHandle,
  fileSize: number,
): Promise<{ elf: ElfReader; headers: ProgramHeader[] } | undefined> {
  const ident = await readAt(file, 0, 64);
  if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const elfClass = ident[4];
  const data = ident[5];
  if ((elfClass !== 1 && elfClass !== 2) || (data !== 1 && data !== 2)) return undefined;
  const elf = new ElfReader(elfClass === 2, data === 1);
  if (elf.is64 && ident.length < 64) return undefined;

  const phoff = elf.is64 ? elf.word(ident, 32) : elf.u32(ident, 28);
  const phentsize = elf.u16(ident, elf.is64 ? 54 : 42);
  const phnum = Math.min(elf.u16(ident, elf.is64 ? 56 : 44), PROGRAM_HEADERS_MAX);
  const minEntry = elf.is64 ? 56 : 32;
  if (!Number.isFinite(phoff) || phentsize < minEntry || phoff + phnum * phentsize > fileSize) {
    return { elf, headers: [] };
  }
  const table = await readAt(file, phoff, phnum * phentsize);
  const headers: ProgramHeader[] = [];
  for (let i = 0; (i + 1) * phentsize <= table.length; i++) {
    headers.push(elf.programHeader(table, i * phentsize));
  }
  return { elf, headers };
}

function validSegment(h: ProgramHeader, fileSize: number): boolean {
  return (
    Number.isFinite(h.offset) &&
    Number.isFinite(h.fileSize) &&
    h.fileSize > 0 &&
    h.fileSize <= SEGMENT_BYTES_MAX &&
    h.offset + h.fileSize <= fileSize
  );
}

/** The build-id among a note segment's notes. */
function buildIdOf(elf: ElfReader, notes: Buffer, segmentAlign: number): string | undefined {
  const align = segmentAlign === 8 ? 8 : 4;
  const pad = (n: number) => Math.ceil(n / align) * align;
  let at = 0;
  while (at + 12 <= notes.length) {
    const nameSize = elf.u32(notes, at);
    const descSize = elf.u32(notes, at + 4);
    const type = elf.u32(notes, at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + pad(nameSize);
    if (descAt + descSize > notes.length) return undefined;
    const name = notes.subarray(nameAt, nameAt + nameSize).toString('latin1');
    if (type === NT_GNU_BUILD_ID && name === 'GNU\0' && descSize > 0) {
      return notes.subarray(descAt, descAt + descSize).toString('hex');
    }
    at = descAt + pad(descSize);
  }
  return undefined;
}

/** The file offset of a virtual address, through the PT_LOAD segment that maps it. */
function fileOffsetOf(address: number, headers: readonly ProgramHeader[]): number | undefined {
  for (const h of headers) {
    if (h.type !== PT_LOAD || !Number.isFinite(h.vaddr)) continue;
    if (address >= h.vaddr && address < h.vaddr + h.fileSize) return h.offset + address - h.vaddr;
  }
  return undefined;
}

async function sonameOf(
  file: FileHandle,
  elf: ElfReader,
  dynamic: Buffer,
  headers: readonly ProgramHeader[],
  fileSize: number,
): Promise<string | undefined> {
  const entrySize = elf.is64 ? 16 : 8;
  let strtab: number | undefined;
  let soname: number | undefined;
  for (let at = 0; at + entrySize <= dynamic.length; at += entrySize) {
    const tag = elf.word(dynamic, at);
    const value = elf.word(dynamic, at + entrySize / 2);
    if (tag === DT_NULL) break;
    if (tag === DT_STRTAB) strtab = value;
    if (tag === DT_SONAME) soname = value;
  }
  if (strtab === undefined || soname === undefined || !Number.isFinite(strtab + soname)) {
    return undefined;
  }
  const tableAt = fileOffsetOf(strtab, headers);
  if (tableAt === undefined || tableAt + soname >= fileSize) return undefined;
  const bytes = await readAt(file, tableAt + soname, SONAME_BYTES_MAX);
  const end = bytes.indexOf(0);
  if (end <= 0) return undefined;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * The build-id and SONAME of an ELF file, read through its program headers; {} for a file
 * that is not ELF or says neither.
 */
export async function readElfFacts(file: FileHandle, fileSize: number): Promise<ElfFacts> {
  const found = await programHeaders(file, fileSize);
  if (!found) return {};
  const { elf, headers } = found;
  const facts: ElfFacts = {};

  for (const h of headers) {
    if (facts.buildId || h.type !== PT_NOTE || !validSegment(h, fileSize)) continue;
    facts.buildId = buildIdOf(elf, await readAt(file, h.offset, h.fileSize), h.align);
  }
  const dynamic = headers.find((h) => h.type === PT_DYNAMIC && validSegment(h, fileSize));
  if (dynamic) {
    const bytes = await readAt(file, dynamic.offset, dynamic.fileSize);
    const soname = await sonameOf(file, elf, bytes, headers, fileSize);
    if (soname) facts.soname = soname;
  }
  if (!facts.buildId) delete facts.buildId;
  return facts;
}
