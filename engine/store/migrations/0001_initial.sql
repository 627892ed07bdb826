-- Keel store schema, migration 1: executions, history, tasks and timers.
-- A frozen on-disk contract: never edit a landed migration; add NNNN_what.sql instead.
-- Times are microseconds since the Unix epoch. Integers that name enum values are the
-- protobuf enum numbers (keel.v1.WorkflowExecutionStatus) or store.h's TaskKind/TimerKind.

-- One row per run. `state` holds everything else the engine needs to continue the run
-- (pending activities, timers, workflow task, buffered events) as keel.v1.ExecutionState.
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
-- At most one running run per workflow id.
CREATE UNIQUE INDEX executions_running ON executions(namespace, workflow_id) WHERE status = 1;
CREATE INDEX executions_by_workflow_id ON executions(namespace, workflow_id, exec_id);
CREATE INDEX executions_by_type ON executions(namespace, workflow_type, start_time);
CREATE INDEX executions_by_status ON executions(namespace, status, start_time);
CREATE INDEX executions_by_start ON executions(namespace, start_time);

-- The append-only history: the events one transition appended, as keel.v1.HistoryBatch.
-- Batches of a run cover 1..history_length with no gap or overlap.
CREATE TABLE history (
  exec_id        INTEGER NOT NULL,
  first_event_id INTEGER NOT NULL,
  last_event_id  INTEGER NOT NULL,
  events         BLOB NOT NULL,
  PRIMARY KEY (exec_id, first_event_id)
) WITHOUT ROWID;

-- Dispatchable work: a row exists exactly while a workflow task or an activity attempt
-- waits for a worker (rows of running attempts stay until the attempt's outcome commits).
CREATE TABLE tasks (
  exec_id    INTEGER NOT NULL,
  kind       INTEGER NOT NULL,  -- 1 workflow task, 2 activity task
  ref        INTEGER NOT NULL,  -- activity: ActivityTaskScheduled event id; workflow task: 0
  namespace  TEXT NOT NULL,
  task_queue TEXT NOT NULL,
  seq        INTEGER NOT NULL,  -- creation order, kept on reload
  PRIMARY KEY (exec_id, kind, ref)
) WITHOUT ROWID;

-- Durable timers of every kind (user sleeps, retry backoffs, timeouts). A row is deleted
-- in the same transaction that records its firing, so each fires exactly once.
CREATE TABLE timers (
  exec_id   INTEGER NOT NULL,
  kind      INTEGER NOT NULL,  -- store.h TimerKind
  ref       INTEGER NOT NULL,
  fire_time INTEGER NOT NULL,
  PRIMARY KEY (exec_id, kind, ref)
) WITHOUT ROWID;
CREATE INDEX timers_by_fire_time ON timers(fire_time);
