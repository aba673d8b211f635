CREATE TABLE `detections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`rule` text NOT NULL,
	`severity` text NOT NULL,
	`title` text NOT NULL,
	`time` text NOT NULL,
	`node_name` text,
	`exec_id` text NOT NULL,
	`pid` integer,
	`binary` text,
	`dedupe_key` text DEFAULT '' NOT NULL,
	`evidence_event_ids` text NOT NULL,
	`ancestors` text NOT NULL,
	`explanation` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `detections_dedupe` ON `detections` (`source_id`,`rule`,`exec_id`,`dedupe_key`);--> statement-breakpoint
CREATE INDEX `detections_time` ON `detections` (`time`);--> statement-breakpoint
CREATE INDEX `detections_exec` ON `detections` (`exec_id`);