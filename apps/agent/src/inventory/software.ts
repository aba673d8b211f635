/**
 * What a library is, as the inventory shows it: a name and a version from the file's own facts
 * (a jar's manifest, an ELF SONAME) where they exist, else from its file name.
 */
import type { FileFacts } from './file-facts';
import { nameFromPath } from './library-name';

export interface SoftwareFacts {
  name?: string;
  version?: string;
  soname?: string;
  title?: string;
  bundle_name?: string;
  bundle_version?: string;
}

export function softwareOf(path: string, facts: FileFacts): SoftwareFacts | undefined {
  const fromName = nameFromPath(path);
  const fromSoname = facts.soname ? nameFromPath(facts.soname) : undefined;
  const manifest = facts.manifest;
  const software: SoftwareFacts = {};
  const name = fromSoname?.name ?? fromName?.name;
  const version =
    manifest?.implementationVersion ??
    manifest?.bundleVersion ??
    fromName?.version ??
    fromSoname?.version;
  if (name) software.name = name;
  if (version) software.version = version;
  if (facts.soname) software.soname = facts.soname;
  if (manifest?.implementationTitle) software.title = manifest.implementationTitle;
  if (manifest?.bundleSymbolicName) software.bundle_name = manifest.bundleSymbolicName;
  if (manifest?.bundleVersion) software.bundle_version = manifest.bundleVersion;
  return Object.keys(software).length ? software : undefined;
}
