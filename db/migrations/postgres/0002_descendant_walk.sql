-- A process's descendants breadth first, nearest first, in one call instead of one round trip
-- per level: each level's children in the order of their parents in the level, then of their
-- rows, at most one more than there is room for (that one tells the caller the level was
-- cut); the walk stops after a cut level, at max_depth, or when nothing is left. Keep in step
-- with DescendantWalk (apps/agent/src/store/shared/tree-assembly.ts), which replays these
-- rows level by level.
CREATE FUNCTION proctrail_descendants(
  walk_source_id bigint, root_exec_id text, max_depth integer, max_descendants integer)
RETURNS TABLE (
  depth integer, exec_id text, parent_exec_id text, node_name text, pid integer,
  "binary" text, flags text, seen integer, process_json text, exit_time text,
  exit_status integer, exit_signal text, ended_unseen_after text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  level_ids text[] := ARRAY[root_exec_id];
  next_ids text[];
  kept integer := 0;
  room integer;
  taken integer;
  child record;
BEGIN
  depth := 0;
  LOOP
    depth := depth + 1;
    room := max_descendants - kept;
    EXIT WHEN depth > max_depth OR cardinality(level_ids) = 0 OR room <= 0;
    next_ids := '{}';
    taken := 0;
    FOR child IN
      SELECT e.exec_id, e.parent_exec_id, e.node_name, e.pid, e."binary", e.flags, e.seen,
        e.process_json, e.exit_time, e.exit_status, e.exit_signal, e.ended_unseen_after
      FROM unnest(level_ids) WITH ORDINALITY AS level(exec_id, n)
      JOIN executions e ON e.source_id = walk_source_id AND e.parent_exec_id = level.exec_id
      WHERE e.exec_id <> e.parent_exec_id
      ORDER BY level.n, e.id
      LIMIT room + 1
    LOOP
      exec_id := child.exec_id;
      parent_exec_id := child.parent_exec_id;
      node_name := child.node_name;
      pid := child.pid;
      "binary" := child."binary";
      flags := child.flags;
      seen := child.seen;
      process_json := child.process_json;
      exit_time := child.exit_time;
      exit_status := child.exit_status;
      exit_signal := child.exit_signal;
      ended_unseen_after := child.ended_unseen_after;
      RETURN NEXT;
      next_ids := next_ids || child.exec_id;
      taken := taken + 1;
    END LOOP;
    EXIT WHEN taken > room;
    kept := kept + taken;
    level_ids := next_ids;
  END LOOP;
END;
$$;
