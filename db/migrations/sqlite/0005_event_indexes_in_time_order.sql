-- Duplicates are told apart by (time, source, digest) instead of (source, digest): an event's
-- time follows from its JSON, so this is the same rule, but new events now land near the end
-- of the index instead of at a random place (the digest-first index dirtied a page for each
-- event it took, and every batch rewrote most of it). It also serves time ranges, so the
-- time-only index goes. Events without a time keep a small unique index of their own, since
-- NULL times never collide in the first. A process's events are found by (source, exec_id),
-- in id order; no query sorted them by time there. No query reads the edges by time.
DROP INDEX `events_source_digest`;--> statement-breakpoint
DROP INDEX `events_exec`;--> statement-breakpoint
DROP INDEX `events_time`;--> statement-breakpoint
CREATE UNIQUE INDEX `events_time_source_digest` ON `events` (`time`,`source_id`,`digest`);--> statement-breakpoint
CREATE UNIQUE INDEX `events_timeless_digest` ON `events` (`source_id`,`digest`) WHERE "events"."time" IS NULL;--> statement-breakpoint
CREATE INDEX `events_source_exec` ON `events` (`source_id`,`exec_id`);--> statement-breakpoint
DROP INDEX `file_edges_time`;--> statement-breakpoint
DROP INDEX `network_edges_time`;