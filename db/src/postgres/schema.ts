import { bigint, boolean, integer, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Proctrail's tables in PostgreSQL, column for column those of ../sqlite/schema.ts (see there
 * for what each column means). Times stay text in the fixed-width UTC form, so both stores
 * sort and compare them alike and keep nanoseconds. Indexes, the trigram search indexes and the
 * partitioning of events by day live in the SQL migrations (db/migrations/postgres): drizzle's
 * table builder cannot say PARTITION BY.
 */

const id = () => bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();
const ref = (name: string) => bigint(name, { mode: 'number' });

export const sources = pgTable('sources', {
  id: id(),
  name: text('name').notNull().unique(),
  kind: text('kind').notNull(),
  createdAt: text('created_at').notNull(),
});

export const executions = pgTable('executions', {
  id: id(),
  sourceId: ref('source_id').notNull(),
  execId: text('exec_id').notNull(),
  parentExecId: text('parent_exec_id'),
  nodeName: text('node_name'),
  pid: integer('pid'),
  uid: bigint('uid', { mode: 'number' }),
  auid: bigint('auid', { mode: 'number' }),
  cwd: text('cwd'),
  binary: text('binary'),
  arguments: text('arguments'),
  flags: text('flags'),
  startTime: text('start_time'),
  podNamespace: text('pod_namespace'),
  podName: text('pod_name'),
  containerId: text('container_id'),
  inInitTree: boolean('in_init_tree'),
  seen: integer('seen').notNull().default(0),
  infoRank: integer('info_rank').notNull().default(0),
  execEventCount: integer('exec_event_count').notNull().default(0),
  processJson: text('process_json').notNull(),
  exitTime: text('exit_time'),
  exitStatus: integer('exit_status'),
  exitSignal: text('exit_signal'),
  endedUnseenAfter: text('ended_unseen_after'),
});

/** Partitioned by range of time, one partition per UTC day (see 0000_init.sql). */
export const events = pgTable('events', {
  id: bigint('id', { mode: 'number' }).notNull().generatedByDefaultAsIdentity(),
  sourceId: ref('source_id').notNull(),
  digest: text('digest').notNull(),
  kind: text('kind').notNull(),
  time: text('time'),
  nodeName: text('node_name'),
  execId: text('exec_id'),
  pid: integer('pid'),
  processStartTime: text('process_start_time'),
  raw: text('raw').notNull(),
});

export const networkEdges = pgTable('network_edges', {
  id: id(),
  eventId: ref('event_id').notNull(),
  sourceId: ref('source_id').notNull(),
  execId: text('exec_id'),
  time: text('time'),
  type: text('type').notNull(),
  family: text('family'),
  protocol: text('protocol'),
  saddr: text('saddr'),
  sport: integer('sport'),
  daddr: text('daddr'),
  dport: integer('dport'),
  cookie: text('cookie'),
  bytesSent: bigint('bytes_sent', { mode: 'number' }),
  bytesReceived: bigint('bytes_received', { mode: 'number' }),
  state: text('state'),
});

export const fileEdges = pgTable('file_edges', {
  id: id(),
  eventId: ref('event_id').notNull(),
  sourceId: ref('source_id').notNull(),
  execId: text('exec_id'),
  time: text('time'),
  operation: text('operation').notNull(),
  path: text('path').notNull(),
  bytes: bigint('bytes', { mode: 'number' }),
  flags: text('flags'),
});

export const detections = pgTable('detections', {
  id: id(),
  sourceId: ref('source_id').notNull(),
  rule: text('rule').notNull(),
  severity: text('severity').notNull(),
  title: text('title').notNull(),
  time: text('time').notNull(),
  nodeName: text('node_name'),
  execId: text('exec_id').notNull(),
  pid: integer('pid'),
  binary: text('binary'),
  dedupeKey: text('dedupe_key').notNull().default(''),
  evidenceEventIds: text('evidence_event_ids').notNull(),
  ancestors: text('ancestors').notNull(),
  explanation: text('explanation').notNull(),
});

export const softwareLoads = pgTable('software_loads', {
  id: id(),
  sourceId: ref('source_id').notNull(),
  eventId: ref('event_id').notNull(),
  execId: text('exec_id').notNull(),
  nodeName: text('node_name'),
  time: text('time'),
  role: text('role').notNull(),
  path: text('path').notNull(),
  sha256: text('sha256'),
  buildId: text('build_id'),
  name: text('name'),
  version: text('version'),
  soname: text('soname'),
  error: text('error'),
  advisories: text('advisories'),
});
