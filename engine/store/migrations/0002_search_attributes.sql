-- Keel store schema, migration 2: search attributes.
-- Workflows set typed key/value pairs (UpsertSearchAttributes, or at start) so that runs
-- can be listed by them, e.g. all runs with awaiting_approval = true. One row per run and
-- name; the latest value wins.
CREATE TABLE search_attributes (
  exec_id INTEGER NOT NULL,  -- executions.exec_id
  name    TEXT NOT NULL,
  value   TEXT NOT NULL,     -- the value as canonical JSON text (true, 42, "gold")
  PRIMARY KEY (exec_id, name)
) WITHOUT ROWID;
CREATE INDEX search_attributes_by_value ON search_attributes(name, value);
