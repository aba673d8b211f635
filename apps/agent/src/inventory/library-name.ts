/**
 * A library's name and version as its file name says them: "log4j-core-2.14.1.jar" is
 * log4j-core 2.14.1, "libssl.so.3" is ssl 3. The file's own facts (a jar's manifest, an ELF
 * SONAME) are preferred where they exist; this is what is left when they do not.
 */
import { basename } from 'node:path';

export interface NameAndVersion {
  name: string;
  version?: string;
}

/** "name-1.2.3[-qualifier].jar": the version starts at the first "-<digit>". */
const ARCHIVE = /^(.+?)-(\d[\w.+-]*)\.(jar|war|ear)$/i;
const ARCHIVE_UNVERSIONED = /^(.+)\.(jar|war|ear)$/i;
/** "libname.so", "libname.so.1.2", "libname-1.2.so". */
const SHARED_OBJECT = /^(?:lib)?(.+?)(?:-(\d[\d.]*))?\.so(?:\.(\d[\d.]*))?$/;

export function nameFromPath(path: string): NameAndVersion | undefined {
  const file = basename(path);
  const archive = ARCHIVE.exec(file);
  if (archive) return { name: archive[1]!, version: archive[2] };
  const plain = ARCHIVE_UNVERSIONED.exec(file);
  if (plain) return { name: plain[1]! };
  const shared = SHARED_OBJECT.exec(file);
  if (shared) {
    const version = shared[3] ?? shared[2];
    return version ? { name: shared[1]!, version } : { name: shared[1]! };
  }
  return undefined;
}
