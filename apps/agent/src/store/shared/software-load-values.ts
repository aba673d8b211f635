import type { SoftwareLoad } from '@proctrail/schema';

/**
 * software_loads.event_id of a row written without an event (Store.writeSoftwareLoads): the
 * compact form of a library load. Retention removes such rows by their time.
 */
export const NO_EVENT_ID = 0;

/**
 * The values of one software_loads row after its source_id, in the column order both stores'
 * INSERTs list: event_id, exec_id, node_name, time, role, path, sha256, build_id, name,
 * version, soname, error, advisories.
 */
export function softwareLoadValues(
  eventId: number,
  execId: string,
  nodeName: string | null,
  time: string | null,
  load: SoftwareLoad,
): unknown[] {
  return [
    eventId,
    execId,
    nodeName,
    time,
    load.role,
    load.path,
    load.sha256 ?? null,
    load.buildId ?? null,
    load.name ?? null,
    load.version ?? null,
    load.soname ?? null,
    load.error ?? null,
    load.advisories.length ? JSON.stringify(load.advisories) : null,
  ];
}
