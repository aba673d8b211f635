-- A trigger per inserted execution made the trigram index a third of an import's upserts.
-- New executions now wait in executions_text_pending, and the event writer moves them into
-- the index with one INSERT ... SELECT at the end of each batch (same transaction), which
-- costs about a quarter as much. A pending row is indexed with whatever values it has then,
-- so an update of a pending row has nothing to undo in the index.
CREATE TABLE `executions_text_pending` (`id` integer PRIMARY KEY NOT NULL);
--> statement-breakpoint
DROP TRIGGER `executions_text_insert`;
--> statement-breakpoint
CREATE TRIGGER `executions_text_insert` AFTER INSERT ON `executions` BEGIN
  INSERT INTO `executions_text_pending`(`id`) VALUES (new.id);
END;
--> statement-breakpoint
DROP TRIGGER `executions_text_update`;
--> statement-breakpoint
CREATE TRIGGER `executions_text_update` AFTER UPDATE OF `binary`, `arguments` ON `executions`
WHEN (old.binary IS NOT new.binary OR old.arguments IS NOT new.arguments)
  AND old.id NOT IN (SELECT `id` FROM `executions_text_pending`) BEGIN
  INSERT INTO `executions_text`(`executions_text`, rowid, `binary`, `arguments`) VALUES ('delete', old.id, old.binary, old.arguments);
  INSERT INTO `executions_text`(rowid, `binary`, `arguments`) VALUES (new.id, new.binary, new.arguments);
END;
--> statement-breakpoint
DROP TRIGGER `executions_text_delete`;
--> statement-breakpoint
CREATE TRIGGER `executions_text_delete` AFTER DELETE ON `executions` BEGIN
  INSERT INTO `executions_text`(`executions_text`, rowid, `binary`, `arguments`)
    SELECT 'delete', old.id, old.binary, old.arguments
    WHERE old.id NOT IN (SELECT `id` FROM `executions_text_pending`);
  DELETE FROM `executions_text_pending` WHERE `id` = old.id;
END;
