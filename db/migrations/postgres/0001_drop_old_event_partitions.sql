-- Retention: drops the day partitions of events that lie wholly before a sortable UTC time
-- (their upper bound, the next day's start, is at or before it) and returns their names. A
-- partition that still holds one event at or after the cut stays whole.
CREATE FUNCTION proctrail_drop_event_partitions_before(cut text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  partition_name text;
BEGIN
  IF cut !~ '^\d{4}-\d{2}-\d{2}T' THEN
    RAISE EXCEPTION 'retention cut % is not in the sortable UTC form', cut;
  END IF;
  FOR partition_name IN
    SELECT child.relname
    FROM pg_inherits
    JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
    JOIN pg_class child ON child.oid = pg_inherits.inhrelid
    WHERE parent.relname = 'events'
      AND child.relname ~ '^events_\d{8}$'
      AND to_char(to_date(substr(child.relname, 8), 'YYYYMMDD') + 1, 'YYYY-MM-DD') <= cut
    ORDER BY child.relname
  LOOP
    EXECUTE format('DROP TABLE %I', partition_name);
    RETURN NEXT partition_name;
  END LOOP;
END;
$$;
