-- Keel store schema, migration 3: what an engine's clean close leaves for its next open.
-- Task leases live in memory, so an engine that opens a file cannot tell which of its
-- pending activity tasks were running on workers that outlived the last engine (those it
-- holds back for a while, EngineOptions::recovered_activity_hold). At a clean close the
-- engine writes them here; its next open reads and deletes the record before it serves
-- anything, holds only those tasks and hands the others out at once. After a crash there
-- is no record, and every pending activity task is held.

-- At most one row: the last clean close not yet read by an open.
CREATE TABLE clean_close (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  close_time INTEGER NOT NULL
);

-- The activity tasks whose attempts were running on workers at that close (leased, or
-- still held from the open before it).
CREATE TABLE clean_close_running (
  exec_id INTEGER NOT NULL,
  ref     INTEGER NOT NULL,  -- the activity's ActivityTaskScheduled event id
  PRIMARY KEY (exec_id, ref)
) WITHOUT ROWID;
