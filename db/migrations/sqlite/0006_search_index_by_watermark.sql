-- No trigger fires on an insert into executions any more. A statement that fires a trigger
-- keeps a statement journal (a copy of every page it changes, to undo itself alone), and the
-- AFTER INSERT trigger of 0003 made that the largest part of an execution's insert. New
-- executions are found by id instead: ids only grow (AUTOINCREMENT), so every execution
-- above executions_text_indexed.up_to is not in the trigram index yet, and the event writer
-- indexes them with one INSERT ... SELECT at the end of each batch, then moves the mark. Rows
-- are indexed with whatever values they have then, so only rows at or below the mark have
-- anything to undo in the index when they change or go.
CREATE TABLE `executions_text_indexed` (
  `id` integer PRIMARY KEY NOT NULL CHECK (`id` = 1),
  `up_to` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `executions_text`(rowid, `binary`, `arguments`)
  SELECT e.id, e.binary, e.arguments
  FROM `executions_text_pending` p CROSS JOIN `executions` e ON e.id = p.id;
--> statement-breakpoint
INSERT INTO `executions_text_indexed`(`id`, `up_to`)
  SELECT 1, coalesce(max(`id`), 0) FROM `executions`;
--> statement-breakpoint
DROP TRIGGER `executions_text_insert`;
--> statement-breakpoint
DROP TRIGGER `executions_text_update`;
--> statement-breakpoint
CREATE TRIGGER `executions_text_update` AFTER UPDATE OF `binary`, `arguments` ON `executions`
WHEN (old.binary IS NOT new.binary OR old.arguments IS NOT new.arguments)
  AND old.id <= (SELECT `up_to` FROM `executions_text_indexed`) BEGIN
  INSERT INTO `executions_text`(`executions_text`, rowid, `binary`, `arguments`) VALUES ('delete', old.id, old.binary, old.arguments);
  INSERT INTO `executions_text`(rowid, `binary`, `arguments`) VALUES (new.id, new.binary, new.arguments);
END;
--> statement-breakpoint
DROP TRIGGER `executions_text_delete`;
--> statement-breakpoint
CREATE TRIGGER `executions_text_delete` AFTER DELETE ON `executions`
WHEN old.id <= (SELECT `up_to` FROM `executions_text_indexed`) BEGIN
  INSERT INTO `executions_text`(`executions_text`, rowid, `binary`, `arguments`) VALUES ('delete', old.id, old.binary, old.arguments);
END;
--> statement-breakpoint
DROP TABLE `executions_text_pending`;
