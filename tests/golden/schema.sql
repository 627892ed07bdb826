-- The schema of a freshly migrated Keel database, checked by
-- tests/engine/store/schema_golden_test.cc. Do not edit by hand.
PRAGMA application_id = 1262830924;  -- 0x4B45454C
PRAGMA user_version = 3;

-- index executions_by_start on executions
CREATE INDEX executions_by_start ON executions(namespace, start_time);

-- index executions_by_status on executions
CREATE INDEX executions_by_status ON executions(namespace, status, start_time);

-- index executions_by_type on executions
CREATE INDEX executions_by_type ON executions(namespace, workflow_type, start_time);

-- index executions_by_workflow_id on executions
CREATE INDEX executions_by_workflow_id ON executions(namespace, workflow_id, exec_id);

-- index executions_running on executions
CREATE UNIQUE INDEX executions_running ON executions(namespace, workflow_id) WHERE status = 1;

-- index search_attributes_by_value on search_attributes
CREATE INDEX search_attributes_by_value ON search_attributes(name, value);

-- index sqlite_autoindex_executions_1 on executions
-- (created automatically, no SQL)

-- index timers_by_fire_time on timers
CREATE INDEX timers_by_fire_time ON timers(fire_time);

-- table clean_close on clean_close
CREATE TABLE clean_close (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  close_time INTEGER NOT NULL
);

-- table clean_close_running on clean_close_running
CREATE TABLE clean_close_running (
  exec_id INTEGER NOT NULL,
  ref     INTEGER NOT NULL,  -- the activity's ActivityTaskScheduled event id
  PRIMARY KEY (exec_id, ref)
) WITHOUT ROWID;

-- table executions on executions
CREATE TABLE executions (
  exec_id          INTEGER PRIMARY KEY,  -- engine-assigned; every other table refers to it
  run_id           TEXT NOT NULL UNIQUE, -- UUID
  namespace        TEXT NOT NULL,
  workflow_id      TEXT NOT NULL,        -- caller-chosen; unique among running runs
  workflow_type    TEXT NOT NULL,
  task_queue       TEXT NOT NULL,
  status           INTEGER NOT NULL,     -- WorkflowExecutionStatus; 1 = running
  start_time       INTEGER NOT NULL,
  close_time       INTEGER NOT NULL,     -- 0 while running
  start_request_id TEXT NOT NULL,        -- dedups a retried start
  history_length   INTEGER NOT NULL,     -- the last event id
  state            BLOB NOT NULL
);

-- table history on history
CREATE TABLE history (
  exec_id        INTEGER NOT NULL,
  first_event_id INTEGER NOT NULL,
  last_event_id  INTEGER NOT NULL,
  events         BLOB NOT NULL,
  PRIMARY KEY (exec_id, first_event_id)
) WITHOUT ROWID;

-- table search_attributes on search_attributes
CREATE TABLE search_attributes (
  exec_id INTEGER NOT NULL,  -- executions.exec_id
  name    TEXT NOT NULL,
  value   TEXT NOT NULL,     -- the value as canonical JSON text (true, 42, "gold")
  PRIMARY KEY (exec_id, name)
) WITHOUT ROWID;

-- table tasks on tasks
CREATE TABLE tasks (
  exec_id    INTEGER NOT NULL,
  kind       INTEGER NOT NULL,  -- 1 workflow task, 2 activity task
  ref        INTEGER NOT NULL,  -- activity: ActivityTaskScheduled event id; workflow task: 0
  namespace  TEXT NOT NULL,
  task_queue TEXT NOT NULL,
  seq        INTEGER NOT NULL,  -- creation order, kept on reload
  PRIMARY KEY (exec_id, kind, ref)
) WITHOUT ROWID;

-- table timers on timers
CREATE TABLE timers (
  exec_id   INTEGER NOT NULL,
  kind      INTEGER NOT NULL,  -- store.h TimerKind
  ref       INTEGER NOT NULL,
  fire_time INTEGER NOT NULL,
  PRIMARY KEY (exec_id, kind, ref)
) WITHOUT ROWID;
