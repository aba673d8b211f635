/**
 * The version facts of a Java archive: its META-INF/MANIFEST.MF, read with yauzl from the
 * zip's central directory, without unpacking anything else. A jar is attacker data: the
 * manifest is read up to a bound and parsed as text, never interpreted.
 */
import yauzl from 'yauzl';

export interface JarManifest {
  implementationTitle?: string;
  implementationVersion?: string;
  bundleSymbolicName?: string;
  bundleVersion?: string;
}

const MANIFEST_PATH = 'META-INF/MANIFEST.MF';
/** Bytes of a manifest read at most: real ones are a few KiB. */
const MANIFEST_BYTES_MAX = 256 * 1024;
/** Central directory entries looked through at most before giving up on a manifest. */
const ENTRIES_MAX = 100_000;

/**
 * The main section's attributes of a manifest ("Name: value", continuation lines starting
 * with one space), by name.
 */
export function parseManifest(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') break; // the main section ends at the first blank line
    if (line.startsWith(' ') && last !== undefined) {
      attributes.set(last, attributes.get(last)! + line.slice(1));
      continue;
    }
    const colon = line.indexOf(': ');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    attributes.set(last, line.slice(colon + 2));
  }
  return attributes;
}

function manifestFacts(attributes: Map<string, string>): JarManifest {
  const facts: JarManifest = {};
  const take = (key: keyof JarManifest, name: string) => {
    const value = attributes.get(name)?.trim();
    if (value) facts[key] = value;
  };
  take('implementationTitle', 'Implementation-Title');
  take('implementationVersion', 'Implementation-Version');
  // "org.example.bundle;singleton:=true": the name is before the first directive.
  take('bundleSymbolicName', 'Bundle-SymbolicName');
  if (facts.bundleSymbolicName) {
    facts.bundleSymbolicName = facts.bundleSymbolicName.split(';')[0]!.trim();
  }
  take('bundleVersion', 'Bundle-Version');
  return facts;
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) return reject(error);
      const chunks: Buffer[] = [];
      let length = 0;
      stream.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > MANIFEST_BYTES_MAX) {
          stream.destroy();
          reject(new RangeError(`${MANIFEST_PATH} is larger than ${MANIFEST_BYTES_MAX} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  });
}

/**
 * The manifest facts of the zip open on `fd`, reopened through /proc/self/fd so that the file
 * hashed is the one read, and so that yauzl, which closes the descriptor it reads, closes its
 * own (the caller keeps `fd`). Undefined when the archive has no manifest; rejects when the
 * file is not a readable zip.
 */
export function readJarManifest(fd: number): Promise<JarManifest | undefined> {
  return new Promise((resolve, reject) => {
    yauzl.open(`/proc/self/fd/${fd}`, { lazyEntries: true, autoClose: true }, (error, zip) => {
      if (error) return reject(error);
      let seen = 0;
      const finish = (result: JarManifest | undefined, failure?: Error) => {
        zip.close();
        if (failure) reject(failure);
        else resolve(result);
      };
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== MANIFEST_PATH) {
          if (++seen >= ENTRIES_MAX) return finish(undefined);
          zip.readEntry();
          return;
        }
        readEntry(zip, entry).then(
          (text) => finish(manifestFacts(parseManifest(text))),
          (failure: Error) => finish(undefined, failure),
        );
      });
      zip.on('end', () => finish(undefined));
      zip.on('error', (failure: Error) => finish(undefined, failure));
      zip.readEntry();
    });
  });
}
