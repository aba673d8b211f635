-- Substring search over binaries and arguments ("curl", "/dev/tcp", "base64 -d") must not
-- scan every execution: an FTS5 trigram index answers LIKE '%...%' for patterns of three
-- characters or more. It indexes the executions table itself (external content), kept in
-- step by the triggers below; the update trigger fires only when the text really changed,
-- because upserts rewrite these columns with the same values all the time.
CREATE VIRTUAL TABLE `executions_text` USING fts5(`binary`, `arguments`, content='executions', content_rowid='id', tokenize='trigram');
--> statement-breakpoint
CREATE TRIGGER `executions_text_insert` AFTER INSERT ON `executions` BEGIN
  INSERT INTO `executions_text`(rowid, `binary`, `arguments`) VALUES (new.id, new.binary, new.arguments);
END;
--> statement-breakpoint
CREATE TRIGGER `executions_text_update` AFTER UPDATE OF `binary`, `arguments` ON `executions`
WHEN old.binary IS NOT new.binary OR old.arguments IS NOT new.arguments BEGIN
  INSERT INTO `executions_text`(`executions_text`, rowid, `binary`, `arguments`) VALUES ('delete', old.id, old.binary, old.arguments);
  INSERT INTO `executions_text`(rowid, `binary`, `arguments`) VALUES (new.id, new.binary, new.arguments);
END;
--> statement-breakpoint
CREATE TRIGGER `executions_text_delete` AFTER DELETE ON `executions` BEGIN
  INSERT INTO `executions_text`(`executions_text`, rowid, `binary`, `arguments`) VALUES ('delete', old.id, old.binary, old.arguments);
END;
