CREATE TABLE `software_loads` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`event_id` integer NOT NULL,
	`exec_id` text NOT NULL,
	`node_name` text,
	`time` text,
	`role` text NOT NULL,
	`path` text NOT NULL,
	`sha256` text,
	`build_id` text,
	`name` text,
	`version` text,
	`soname` text,
	`error` text,
	`advisories` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `software_loads_once` ON `software_loads` (`source_id`,`exec_id`,`role`,`path`);--> statement-breakpoint
CREATE INDEX `software_loads_sha256` ON `software_loads` (`sha256`);--> statement-breakpoint
CREATE INDEX `software_loads_path` ON `software_loads` (`path`);--> statement-breakpoint
CREATE INDEX `software_loads_name` ON `software_loads` (`name`);--> statement-breakpoint
CREATE INDEX `software_loads_time` ON `software_loads` (`time`);