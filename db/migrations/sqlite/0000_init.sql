CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`digest` text NOT NULL,
	`kind` text NOT NULL,
	`time` text,
	`node_name` text,
	`exec_id` text,
	`pid` integer,
	`process_start_time` text,
	`raw` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_source_digest` ON `events` (`source_id`,`digest`);--> statement-breakpoint
CREATE INDEX `events_exec` ON `events` (`source_id`,`exec_id`,`time`);--> statement-breakpoint
CREATE INDEX `events_time` ON `events` (`time`);--> statement-breakpoint
CREATE INDEX `events_kind_time` ON `events` (`kind`,`time`);--> statement-breakpoint
CREATE TABLE `executions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`exec_id` text NOT NULL,
	`parent_exec_id` text,
	`node_name` text,
	`pid` integer,
	`uid` integer,
	`auid` integer,
	`cwd` text,
	`binary` text,
	`arguments` text,
	`flags` text,
	`start_time` text,
	`pod_namespace` text,
	`pod_name` text,
	`container_id` text,
	`in_init_tree` integer,
	`seen` integer DEFAULT 0 NOT NULL,
	`info_rank` integer DEFAULT 0 NOT NULL,
	`exec_event_count` integer DEFAULT 0 NOT NULL,
	`process_json` text NOT NULL,
	`exit_time` text,
	`exit_status` integer,
	`exit_signal` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `executions_source_exec_id` ON `executions` (`source_id`,`exec_id`);--> statement-breakpoint
CREATE INDEX `executions_parent` ON `executions` (`source_id`,`parent_exec_id`);--> statement-breakpoint
CREATE INDEX `executions_binary` ON `executions` (`binary`);--> statement-breakpoint
CREATE INDEX `executions_pid` ON `executions` (`pid`);--> statement-breakpoint
CREATE INDEX `executions_node` ON `executions` (`node_name`);--> statement-breakpoint
CREATE INDEX `executions_pod` ON `executions` (`pod_namespace`,`pod_name`);--> statement-breakpoint
CREATE INDEX `executions_start_time` ON `executions` (`start_time`);--> statement-breakpoint
CREATE INDEX `executions_exit_time` ON `executions` (`exit_time`);--> statement-breakpoint
CREATE TABLE `file_edges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` integer NOT NULL,
	`source_id` integer NOT NULL,
	`exec_id` text,
	`time` text,
	`operation` text NOT NULL,
	`path` text NOT NULL,
	`bytes` integer,
	`flags` text
);
--> statement-breakpoint
CREATE INDEX `file_edges_exec` ON `file_edges` (`source_id`,`exec_id`);--> statement-breakpoint
CREATE INDEX `file_edges_path` ON `file_edges` (`path`);--> statement-breakpoint
CREATE INDEX `file_edges_time` ON `file_edges` (`time`);--> statement-breakpoint
CREATE TABLE `network_edges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` integer NOT NULL,
	`source_id` integer NOT NULL,
	`exec_id` text,
	`time` text,
	`type` text NOT NULL,
	`family` text,
	`protocol` text,
	`saddr` text,
	`sport` integer,
	`daddr` text,
	`dport` integer,
	`cookie` text,
	`bytes_sent` integer,
	`bytes_received` integer,
	`state` text
);
--> statement-breakpoint
CREATE INDEX `network_edges_exec` ON `network_edges` (`source_id`,`exec_id`);--> statement-breakpoint
CREATE INDEX `network_edges_daddr` ON `network_edges` (`daddr`);--> statement-breakpoint
CREATE INDEX `network_edges_saddr` ON `network_edges` (`saddr`);--> statement-breakpoint
CREATE INDEX `network_edges_dport` ON `network_edges` (`dport`);--> statement-breakpoint
CREATE INDEX `network_edges_sport` ON `network_edges` (`sport`);--> statement-breakpoint
CREATE INDEX `network_edges_time` ON `network_edges` (`time`);--> statement-breakpoint
CREATE TABLE `sources` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sources_name_unique` ON `sources` (`name`);