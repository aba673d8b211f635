import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Proctrail's tables in SQLite. Times are text in the fixed-width UTC form
 * `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: it sorts in time order and keeps nanoseconds exactly.
 * Every row belongs to a source (one agent, or one import); exec_ids are unique only within
 * their source, because node names repeat across hosts and ktime restarts at boot.
 */

export const sources = sqliteTable('sources', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  /** "import" or "agent". */
  kind: text('kind').notNull(),
  createdAt: text('created_at').notNull(),
});

/** What an execution row has been seen as; a bit set, see SEEN_* in the store. */
export const executions = sqliteTable(
  'executions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id').notNull(),
    execId: text('exec_id').notNull(),
    parentExecId: text('parent_exec_id'),
    nodeName: text('node_name'),
    pid: integer('pid'),
    uid: integer('uid'),
    auid: integer('auid'),
    cwd: text('cwd'),
    binary: text('binary'),
    arguments: text('arguments'),
    flags: text('flags'),
    startTime: text('start_time'),
    podNamespace: text('pod_namespace'),
    podName: text('pod_name'),
    containerId: text('container_id'),
    inInitTree: integer('in_init_tree', { mode: 'boolean' }),
    /** Bit set: 1 its exec event, 2 the subject of another event, 4 a parent, 8 an ancestor. */
    seen: integer('seen').notNull().default(0),
    /** How rich the stored process object is: 3 exec, 2 subject, 1 parent, 0 ancestor. */
    infoRank: integer('info_rank').notNull().default(0),
    /** How many distinct exec events named this exec_id; more than one means a collision. */
    execEventCount: integer('exec_event_count').notNull().default(0),
    /** The richest Tetragon `process` object seen for this exec_id, as JSON. */
    processJson: text('process_json').notNull(),
    exitTime: text('exit_time'),
    exitStatus: integer('exit_status'),
    exitSignal: text('exit_signal'),
    /**
     * Set when the execution ended while no agent watched (found gone at an agent's start): no
     * status or signal is known. The end lies between this time (the last the previous run of
     * the agent was seen watching) and exit_time (the start of the run that found it gone).
     */
    endedUnseenAfter: text('ended_unseen_after'),
  },
  (t) => [
    uniqueIndex('executions_source_exec_id').on(t.sourceId, t.execId),
    index('executions_parent').on(t.sourceId, t.parentExecId),
    // No index on binary: search matches substrings through the trigram index (0001).
    index('executions_pid').on(t.pid),
    index('executions_node').on(t.nodeName),
    index('executions_pod').on(t.podNamespace, t.podName),
    index('executions_start_time').on(t.startTime),
  ],
);

export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id').notNull(),
    /** SHA-1 of the event's canonical JSON: importing a file twice stores each event once. */
    digest: text('digest').notNull(),
    kind: text('kind').notNull(),
    time: text('time'),
    nodeName: text('node_name'),
    /** The exec_id of the process the event is about; null when the export left it empty. */
    execId: text('exec_id'),
    /** Pid and start time of that process, to attribute exec_id-less events afterwards. */
    pid: integer('pid'),
    processStartTime: text('process_start_time'),
    /** The event as Tetragon JSON, unknown fields included. */
    raw: text('raw').notNull(),
  },
  (t) => [
    // One index answers time ranges and tells duplicates apart: an event's time follows from
    // its JSON, so equal digests mean equal times, and new events land near the index's end
    // instead of at random places (a digest-first index dirtied a page per event). Events
    // without a time have their own, small, unique index: NULLs never collide in the first.
    uniqueIndex('events_time_source_digest').on(t.time, t.sourceId, t.digest),
    uniqueIndex('events_timeless_digest')
      .on(t.sourceId, t.digest)
      .where(sql`${t.time} IS NULL`),
    // A process's events in id order (the rowid ends every index entry).
    index('events_source_exec').on(t.sourceId, t.execId),
    index('events_kind_time').on(t.kind, t.time),
  ],
);

export const networkEdges = sqliteTable(
  'network_edges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventId: integer('event_id').notNull(),
    sourceId: integer('source_id').notNull(),
    execId: text('exec_id'),
    time: text('time'),
    /** connect, accept, close, listen, sendmsg, recvmsg, or a hook's name. */
    type: text('type').notNull(),
    family: text('family'),
    protocol: text('protocol'),
    saddr: text('saddr'),
    sport: integer('sport'),
    daddr: text('daddr'),
    dport: integer('dport'),
    /** The kernel socket's identity: a uint64, kept as text to stay exact. */
    cookie: text('cookie'),
    bytesSent: integer('bytes_sent'),
    bytesReceived: integer('bytes_received'),
    state: text('state'),
  },
  (t) => [
    index('network_edges_exec').on(t.sourceId, t.execId),
    index('network_edges_daddr').on(t.daddr),
    index('network_edges_saddr').on(t.saddr),
    index('network_edges_dport').on(t.dport),
    index('network_edges_sport').on(t.sport),
  ],
);

export const fileEdges = sqliteTable(
  'file_edges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventId: integer('event_id').notNull(),
    sourceId: integer('source_id').notNull(),
    execId: text('exec_id'),
    time: text('time'),
    /** open, read, write, mmap, truncate, close, or a hook's name. */
    operation: text('operation').notNull(),
    path: text('path').notNull(),
    bytes: integer('bytes'),
    flags: text('flags'),
  },
  (t) => [index('file_edges_exec').on(t.sourceId, t.execId), index('file_edges_path').on(t.path)],
);

/** What detection rules found: one row per (rule, process, dedupe key) and source. */
export const detections = sqliteTable(
  'detections',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id').notNull(),
    rule: text('rule').notNull(),
    /** low, medium, high or critical. */
    severity: text('severity').notNull(),
    title: text('title').notNull(),
    /** The evidence's time, in the sortable form; the detection's creation when it has none. */
    time: text('time').notNull(),
    nodeName: text('node_name'),
    execId: text('exec_id').notNull(),
    pid: integer('pid'),
    binary: text('binary'),
    /** "" for one detection per process; a remote address or a path for rules keyed by them. */
    dedupeKey: text('dedupe_key').notNull().default(''),
    /** Store ids of the evidence events, as a JSON array. */
    evidenceEventIds: text('evidence_event_ids').notNull(),
    /** The ancestor chain as the rule saw it, parent first, as JSON. */
    ancestors: text('ancestors').notNull(),
    explanation: text('explanation').notNull(),
  },
  (t) => [
    uniqueIndex('detections_dedupe').on(t.sourceId, t.rule, t.execId, t.dedupeKey),
    index('detections_time').on(t.time),
    index('detections_exec').on(t.execId),
  ],
);

/**
 * The software inventory: each executable a process ran and each library it loaded, once per
 * (source, exec_id, role, path), with what the file held when it was hashed. Filled from exec
 * events' binary_hash and from process_loader events.
 */
export const softwareLoads = sqliteTable(
  'software_loads',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id').notNull(),
    /** The event that named the load: a process_exec or a process_loader. */
    eventId: integer('event_id').notNull(),
    execId: text('exec_id').notNull(),
    nodeName: text('node_name'),
    /** When the process executed or loaded it, in the sortable form. */
    time: text('time'),
    /** executable or library. */
    role: text('role').notNull(),
    path: text('path').notNull(),
    /** Hex; null when the file could not be read (see error). */
    sha256: text('sha256'),
    /** The ELF GNU build-id, hex. */
    buildId: text('build_id'),
    /** A library's name: a jar's artifact name, a shared object's name without "lib" and ".so". */
    name: text('name'),
    version: text('version'),
    soname: text('soname'),
    /** Why there is no hash: the file was gone (deleted, memfd) or unreadable. */
    error: text('error'),
    /** Advisory ids of the vulnerable-version rules the library matched, as a JSON array. */
    advisories: text('advisories'),
  },
  (t) => [
    uniqueIndex('software_loads_once').on(t.sourceId, t.execId, t.role, t.path),
    index('software_loads_sha256').on(t.sha256),
    index('software_loads_path').on(t.path),
    index('software_loads_name').on(t.name),
    index('software_loads_time').on(t.time),
  ],
);
