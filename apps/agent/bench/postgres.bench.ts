/**
 * The PostgreSQL store on a throwaway local server (startTestPostgres: fsync off, as a test
 * server runs).
 * Ingest: synthetic events (exec, connect, file read, exit per process, ~870 bytes a line),
 * parsed beforehand, written with Store.write in batches of 1,000 as the agent's write queue
 * hands them over; the median of several runs, each into a new database.
 * Tree: the tree of a process 20 levels deep with its first 1,000 descendants among
 * PG_BENCH_EXECUTIONS executions (1,000,000 by default), with PG_BENCH_EVENTS events (1,000,000
 * by default) spread over 30 day partitions, built in SQL.
 */
import pg from 'pg';
import { parseTetragonEvent } from '@proctrail/schema';
import { median, reportBench } from '../../../scripts/bench-report';
import { PostgresStore } from '../src/store/postgres/postgres-store';
import type { IngestItem } from '../src/store/types';
import { startTestPostgres } from '../src/testing/postgres';
import { syntheticEventLines } from './synthetic-events';
import { timeTargetTree } from './tree-timing';

const INGEST_EVENTS = 100_000;
const INGEST_RUNS = 3;
const BATCH = 1000;
const EXECUTIONS = Number(process.env.PG_BENCH_EXECUTIONS ?? 1_000_000);
const EVENTS = Number(process.env.PG_BENCH_EVENTS ?? 1_000_000);
const ANCESTRY_DEPTH = 20;
const TARGET_DESCENDANTS = 2_000;
const QUERIES = 50;

const server = await startTestPostgres();
const admin = new pg.Client({ connectionString: server.url });

function items(): IngestItem[] {
  const parsed: IngestItem[] = [];
  for (const line of syntheticEventLines(INGEST_EVENTS)) {
    const raw = JSON.parse(line) as unknown;
    const outcome = parseTetragonEvent(raw);
    if (!outcome.ok) throw new Error('a synthetic event did not parse');
    parsed.push({ parsed: outcome.parsed, raw });
  }
  return parsed;
}

async function ingestRun(all: IngestItem[], run: number): Promise<number> {
  await admin.query(`CREATE DATABASE ingest_${run}`);
  const store = await PostgresStore.open(server.url.replace(/\/[^/]+$/, `/ingest_${run}`));
  const source = await store.source('bench', 'agent');
  const start = performance.now();
  let stored = 0;
  for (let i = 0; i < all.length; i += BATCH) {
    stored += (await store.write(source, all.slice(i, i + BATCH))).stored;
  }
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  if (stored !== INGEST_EVENTS) throw new Error(`stored ${stored} events`);
  return INGEST_EVENTS / seconds;
}

/** Executions and events in SQL: a target with its ancestry and descendants in a forest. */
async function buildTreeData(pool: pg.Pool): Promise<void> {
  await pool.query(
    `INSERT INTO sources (id, name, kind, created_at) VALUES (1, 'bench', 'import', '')`,
  );
  const insert = (count: number, idExpr: string, parentExpr: string, offset: number) =>
    pool.query(`
      INSERT INTO executions (source_id, exec_id, parent_exec_id, node_name, pid, "binary",
        arguments, flags, start_time, seen, info_rank, exec_event_count, process_json)
      SELECT 1, ${idExpr}, ${parentExpr}, 'bench', ${offset} + i, '/usr/bin/python3',
        'worker.py --job ' || i, 'execve clone',
        '2026-01-01T00:00:00.' || lpad(i::text, 9, '0') || 'Z', 1, 3, 1,
        json_build_object('exec_id', ${idExpr}, 'pid', ${offset} + i,
          'binary', '/usr/bin/python3', 'arguments', 'worker.py --job ' || i,
          'flags', 'execve clone')::text
      FROM generate_series(0, ${count - 1}) AS i`);
  await insert(
    ANCESTRY_DEPTH,
    `'anc-' || i`,
    `CASE WHEN i = 0 THEN NULL ELSE 'anc-' || (i - 1) END`,
    10,
  );
  await insert(1, `'target'`, `'anc-${ANCESTRY_DEPTH - 1}'`, 100);
  await insert(
    TARGET_DESCENDANTS,
    `'desc-' || i`,
    `CASE WHEN i < 4 THEN 'target' ELSE 'desc-' || (i / 4 - 1) END`,
    1000,
  );
  const rest = EXECUTIONS - ANCESTRY_DEPTH - 1 - TARGET_DESCENDANTS;
  await insert(rest, `md5(i::text)`, `md5((i / 3)::text || 'p')`, 100_000);
  // Events over 30 days, a connect edge for every tenth: partitions and edges to walk. The
  // target's descendants get one event in 5,000 (two each at ten million), the forest the rest.
  for (let day = 0; day < 30; day++) {
    await pool.query(
      `SELECT proctrail_event_partition(to_char(DATE '2026-01-01' + ${day}, 'YYYY-MM-DD') || 'T00:00:00Z')`,
    );
  }
  await pool.query(`
    INSERT INTO events (source_id, digest, kind, time, node_name, exec_id, pid, raw)
    SELECT 1, md5(i::text), 'process_kprobe',
      to_char(TIMESTAMP '2026-01-01' + (i % 30) * INTERVAL '1 day' + (i % 86400) * INTERVAL '1 second',
        'YYYY-MM-DD"T"HH24:MI:SS') || '.000000000Z',
      'bench',
      CASE WHEN i % 5000 = 0 THEN 'desc-' || ((i / 5000) % ${TARGET_DESCENDANTS})
        ELSE md5((i % ${EXECUTIONS})::text) END,
      i, '{"process_kprobe":{}}'
    FROM generate_series(0, ${EVENTS - 1}) AS i`);
  await pool.query(`
    INSERT INTO network_edges (event_id, source_id, exec_id, time, type, family, protocol,
      saddr, sport, daddr, dport)
    SELECT id, 1, exec_id, time, 'connect', 'AF_INET', 'TCP', '10.0.0.1', 40000, '10.0.0.2', 443
    FROM events WHERE id % 10 = 0 OR exec_id LIKE 'desc-%'`);
  await pool.query('ANALYZE');
}

try {
  await admin.connect();
  const all = items();
  const rates: number[] = [];
  for (let run = 0; run < INGEST_RUNS; run++) rates.push(await ingestRun(all, run));
  const rate = median(rates);
  reportBench({
    name: 'PostgreSQL ingest: Store.write, batches of 1,000',
    value: Math.round(rate),
    unit: 'events/s',
    goal: '>= 50000',
    met: rate >= 50_000,
    detail: `median of ${INGEST_RUNS} runs of ${INGEST_EVENTS.toLocaleString('en')} events: ${rates.map((r) => Math.round(r)).join(', ')}`,
  });

  await admin.query('CREATE DATABASE trees');
  const store = await PostgresStore.open(server.url.replace(/\/[^/]+$/, '/trees'));
  const buildStart = performance.now();
  await buildTreeData(store.pool);
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const { medianMs: ms, processesShown: shown } = await timeTargetTree(
    store,
    QUERIES,
    ANCESTRY_DEPTH,
  );
  reportBench({
    name: `PostgreSQL tree: ancestry 20 deep + 1,000 descendants`,
    value: Number(ms.toFixed(2)),
    unit: 'ms',
    goal: '< 20',
    met: ms < 20,
    detail: `median of ${QUERIES} queries, ${shown} processes returned; ${EXECUTIONS.toLocaleString('en')} executions, ${EVENTS.toLocaleString('en')} events in 30 day partitions, built in ${Math.round(buildSeconds)} s`,
  });

  // Retention on the same data once most processes have exited, as on a real host: a third
  // of the days go (whole partitions), then executions left without events.
  await store.pool.query(
    `UPDATE executions SET exit_time = start_time WHERE exec_id NOT LIKE 'anc-%'`,
  );
  await store.pool.query('ANALYZE');
  const pruneStart = performance.now();
  const pruned = await store.prune({ before: '2026-01-11T00:00:00.000000000Z' });
  const pruneSeconds = (performance.now() - pruneStart) / 1000;
  reportBench({
    name: 'PostgreSQL retention: 10 of 30 days',
    value: Number(pruneSeconds.toFixed(1)),
    unit: 's',
    detail: `${pruned.events.toLocaleString('en')} events (10 partitions dropped), ${pruned.executions.toLocaleString('en')} executions deleted`,
  });
  await store.close();
} finally {
  await admin.end().catch(() => undefined);
  server.stop();
}
