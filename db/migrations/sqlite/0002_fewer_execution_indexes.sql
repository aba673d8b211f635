DROP INDEX `executions_binary`;--> statement-breakpoint
DROP INDEX `executions_exit_time`;