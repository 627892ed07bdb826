// SqliteStore: what a committed transition makes visible (and durable), the reads'
// filters and ranges, the refusals that fail one transition alone, concurrent commits
// with and without group commit, and commits that do not wait (CommitAsync).
#include "engine/store/sqlite_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace keel::store {
namespace {

constexpr int kRunning = 1;
constexpr int kCompleted = 2;
constexpr char kNamespace[] = "default";

ExecutionRow Execution(int64_t exec_id, const std::string& workflow_id, int status = kRunning,
                       const std::string& type = "Order", int64_t start_time_us = 1000) {
  ExecutionRow row;
  row.exec_id = exec_id;
  row.run_id = "run-" + std::to_string(exec_id);
  row.namespace_name = kNamespace;
  row.workflow_id = workflow_id;
  row.workflow_type = type;
  row.task_queue = "queue";
  row.status = status;
  row.start_time_us = start_time_us;
  row.close_time_us = status == kRunning ? 0 : start_time_us + 1;
  row.start_request_id = "request-" + std::to_string(exec_id);
  row.history_length = 3;
  row.state = std::string("state\0", 6) + std::to_string(exec_id);
  return row;
}

HistoryBatchRow Batch(int64_t exec_id, int64_t first, int64_t last) {
  return {exec_id, first, last, "events " + std::to_string(first) + "-" + std::to_string(last)};
}

TaskRow Task(int64_t exec_id, TaskKind kind, int64_t ref, int64_t seq) {
  return {{exec_id, kind, ref}, kNamespace, "queue", seq};
}

TimerRow Timer(int64_t exec_id, TimerKind kind, int64_t ref, int64_t fire_time_us) {
  return {{exec_id, kind, ref}, fire_time_us};
}

// Lists the default namespace, newest first, up to 100 rows.
ListFilter Filter() {
  ListFilter filter;
  filter.namespace_name = kNamespace;
  return filter;
}

// A new run: its execution row, first history batch, workflow task and run timeout timer.
Transition StartRun(int64_t exec_id, const std::string& workflow_id) {
  Transition t;
  t.executions.push_back(Execution(exec_id, workflow_id));
  t.history.push_back(Batch(exec_id, 1, 3));
  t.add_tasks.push_back(Task(exec_id, TaskKind::kWorkflow, 0, exec_id));
  t.add_timers.push_back(Timer(exec_id, TimerKind::kWorkflowRunTimeout, 0, 1'000'000 + exec_id));
  return t;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> OpenStore(bool group_commit = true, bool caller_writes_lone_async_commit = true) {
    SqliteStoreOptions options;
    options.path = dir_.File("keel.db");
    options.group_commit = group_commit;
    options.caller_writes_lone_async_commit = caller_writes_lone_async_commit;
    Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Asserts that every row StartRun(exec_id, ...) writes is present.
  void ExpectRunStored(SqliteStore& store, int64_t exec_id) {
    Result<std::optional<ExecutionRow>> row = store.GetExecution(exec_id);
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    ASSERT_TRUE(row->has_value()) << "exec_id " << exec_id;
    Result<std::vector<HistoryBatchRow>> history = store.ReadHistory(exec_id, 1, 0);
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->size(), 1u) << "exec_id " << exec_id;
  }

  keel::testing::TempDir dir_;
};

TEST_F(SqliteStoreTest, CommittedTransitionIsVisible) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(7, "order-1")).ok());

  auto row = store->GetExecution(7);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->has_value());
  ExecutionRow expected = Execution(7, "order-1");
  EXPECT_EQ((*row)->run_id, expected.run_id);
  EXPECT_EQ((*row)->namespace_name, expected.namespace_name);
  EXPECT_EQ((*row)->workflow_id, expected.workflow_id);
  EXPECT_EQ((*row)->workflow_type, expected.workflow_type);
  EXPECT_EQ((*row)->task_queue, expected.task_queue);
  EXPECT_EQ((*row)->status, kRunning);
  EXPECT_EQ((*row)->start_time_us, expected.start_time_us);
  EXPECT_EQ((*row)->close_time_us, 0);
  EXPECT_EQ((*row)->start_request_id, expected.start_request_id);
  EXPECT_EQ((*row)->history_length, 3);
  EXPECT_EQ((*row)->state, expected.state);  // binary-safe: contains a NUL byte

  auto by_run = store->GetExecutionByRunId("run-7");
  ASSERT_TRUE(by_run.ok());
  ASSERT_TRUE(by_run->has_value());
  EXPECT_EQ((*by_run)->exec_id, 7);
  EXPECT_FALSE(store->GetExecutionByRunId("run-8")->has_value());
  EXPECT_FALSE(store->GetExecution(8)->has_value());

  auto history = store->ReadHistory(7, 1, 0);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].exec_id, 7);
  EXPECT_EQ((*history)[0].events, "events 1-3");

  auto tasks = store->LoadTasks();
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].key, (TaskKey{7, TaskKind::kWorkflow, 0}));
  EXPECT_EQ((*tasks)[0].namespace_name, kNamespace);
  EXPECT_EQ((*tasks)[0].task_queue, "queue");

  auto timers = store->LoadTimers(0, 2'000'000);
  ASSERT_TRUE(timers.ok());
  ASSERT_EQ(timers->size(), 1u);
  EXPECT_EQ((*timers)[0].key, (TimerKey{7, TimerKind::kWorkflowRunTimeout, 0}));
  EXPECT_EQ((*timers)[0].fire_time_us, 1'000'007);

  EXPECT_EQ(*store->MaxExecId(), 7);
  EXPECT_EQ(*store->MaxTaskSeq(), 7);
}

TEST_F(SqliteStoreTest, EmptyStoreHasNoRows) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->MaxExecId(), 0);
  EXPECT_EQ(*store->MaxTaskSeq(), 0);
  EXPECT_TRUE(store->LoadTasks()->empty());
  EXPECT_FALSE(store->NextTimerAfter(0)->has_value());
  EXPECT_FALSE(store->GetCurrentExecution(kNamespace, "none")->has_value());
  EXPECT_TRUE(store->ReadHistory(1, 1, 0)->empty());
}

TEST_F(SqliteStoreTest, CommittedRowsSurviveReopen) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
    ASSERT_TRUE(store->Commit(StartRun(2, "b")).ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ExpectRunStored(*store, 1);
  ExpectRunStored(*store, 2);
  EXPECT_EQ(store->LoadTasks()->size(), 2u);
  EXPECT_EQ(*store->MaxExecId(), 2);
}

TEST_F(SqliteStoreTest, ExecutionRowIsReplacedByExecId) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
  Transition close;
  close.executions.push_back(Execution(1, "a", kCompleted));
  close.executions.back().history_length = 5;
  close.history.push_back(Batch(1, 4, 5));
  close.remove_tasks.push_back({1, TaskKind::kWorkflow, 0});
  close.remove_timers.push_back({1, TimerKind::kWorkflowRunTimeout, 0});
  ASSERT_TRUE(store->Commit(close).ok());

  auto row = store->GetExecution(1);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->status, kCompleted);
  EXPECT_EQ((*row)->history_length, 5);
  EXPECT_EQ(store->ReadHistory(1, 1, 0)->size(), 2u);
  EXPECT_TRUE(store->LoadTasks()->empty());
  EXPECT_TRUE(store->LoadTimers(0, 10'000'000)->empty());
}

TEST_F(SqliteStoreTest, UpdateOnlyChangesStatusStateAndLengthOfAnExistingRow) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
  Transition t;
  ExecutionRow row = Execution(1, "a", kCompleted);
  row.update_only = true;
  row.workflow_type = "ignored by an update";
  row.history_length = 9;
  row.state = "new state";
  t.executions.push_back(row);
  ASSERT_TRUE(store->Commit(t).ok());
  auto got = store->GetExecution(1);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, kCompleted);
  EXPECT_EQ((*got)->history_length, 9);
  EXPECT_EQ((*got)->state, "new state");
  EXPECT_EQ((*got)->workflow_type, "Order");

  Transition missing;
  ExecutionRow ghost = Execution(99, "ghost");
  ghost.update_only = true;
  missing.executions.push_back(ghost);
  Status st = store->Commit(missing);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_FALSE(store->GetExecution(99)->has_value());
}

TEST_F(SqliteStoreTest, AStepThatKeepsTheStatusWritesOnlyStateAndLength) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
  Transition t;
  ExecutionRow row = Execution(1, "a", kCompleted);  // status and close time not written
  row.update_only = true;
  row.status_changed = false;
  row.history_length = 7;
  row.state = "step state";
  t.executions.push_back(row);
  ASSERT_TRUE(store->Commit(t).ok());
  auto got = store->GetExecution(1);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, kRunning);
  EXPECT_EQ((*got)->close_time_us, 0);
  EXPECT_EQ((*got)->history_length, 7);
  EXPECT_EQ((*got)->state, "step state");
  // Still found as running by the status index.
  ListFilter running = Filter();
  running.status = kRunning;
  EXPECT_EQ(store->ListExecutions(running)->size(), 1u);
}

TEST_F(SqliteStoreTest, ListFiltersBySearchAttributes) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (int64_t id : {1, 2, 3}) {
    Transition t = StartRun(id, "wf-" + std::to_string(id));
    t.search_attributes.push_back({id, "awaiting_approval", id == 2 ? "false" : "true"});
    t.search_attributes.push_back({id, "tier", id == 3 ? "\"gold\"" : "\"silver\""});
    ASSERT_TRUE(store->Commit(t).ok());
  }
  Transition flip;  // setting a name again replaces its value
  flip.search_attributes.push_back({1, "awaiting_approval", "false"});
  ASSERT_TRUE(store->Commit(flip).ok());

  ListFilter f = Filter();
  f.search_attributes = {{"awaiting_approval", "true"}};
  auto rows = store->ListExecutions(f);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].exec_id, 3);
  f.search_attributes = {{"awaiting_approval", "false"}, {"tier", "\"silver\""}};
  rows = store->ListExecutions(f);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].exec_id, 2);
  EXPECT_EQ((*rows)[1].exec_id, 1);
  f.search_attributes = {{"tier", "\"bronze\""}};
  EXPECT_TRUE(store->ListExecutions(f)->empty());
}

TEST_F(SqliteStoreTest, RemovingMissingRowsIsNotAnError) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
  Transition t;
  t.remove_tasks.push_back({1, TaskKind::kActivity, 5});
  t.remove_tasks.push_back({99, TaskKind::kWorkflow, 0});
  t.remove_timers.push_back({1, TimerKind::kUserTimer, 5});
  EXPECT_TRUE(store->Commit(t).ok());
  EXPECT_EQ(store->LoadTasks()->size(), 1u);
  EXPECT_EQ(store->LoadTimers(0, 10'000'000)->size(), 1u);
}

TEST_F(SqliteStoreTest, AddedTaskOrTimerReplacesTheSameKey) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
  Transition t;
  t.add_tasks.push_back(Task(1, TaskKind::kWorkflow, 0, 50));
  t.add_timers.push_back(Timer(1, TimerKind::kWorkflowRunTimeout, 0, 42));
  ASSERT_TRUE(store->Commit(t).ok());
  auto tasks = store->LoadTasks();
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].seq, 50);
  auto timers = store->LoadTimers(0, 10'000'000);
  ASSERT_EQ(timers->size(), 1u);
  EXPECT_EQ((*timers)[0].fire_time_us, 42);
}

TEST_F(SqliteStoreTest, RemoveThenAddInOneTransitionKeepsTheNewRow) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
  // store.h applies removes before adds, so a re-armed timer survives.
  Transition t;
  t.remove_timers.push_back({1, TimerKind::kWorkflowRunTimeout, 0});
  t.add_timers.push_back(Timer(1, TimerKind::kWorkflowRunTimeout, 0, 77));
  t.remove_tasks.push_back({1, TaskKind::kWorkflow, 0});
  t.add_tasks.push_back(Task(1, TaskKind::kWorkflow, 0, 9));
  ASSERT_TRUE(store->Commit(t).ok());
  ASSERT_EQ(store->LoadTimers(0, 100)->size(), 1u);
  ASSERT_EQ(store->LoadTasks()->size(), 1u);
  EXPECT_EQ((*store->LoadTasks())[0].seq, 9);
}

TEST_F(SqliteStoreTest, ListExecutionsFilters) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Transition t;
  t.executions.push_back(Execution(1, "a", kCompleted, "Order", 100));
  t.executions.push_back(Execution(2, "b", kRunning, "Order", 200));
  t.executions.push_back(Execution(3, "a", kRunning, "Refund", 300));
  t.executions.push_back(Execution(4, "c", kCompleted, "Refund", 400));
  ExecutionRow other_namespace = Execution(5, "a", kRunning, "Order", 500);
  other_namespace.namespace_name = "other";
  t.executions.push_back(other_namespace);
  ASSERT_TRUE(store->Commit(t).ok());

  auto ids = [&](const ListFilter& filter) {
    Result<std::vector<ExecutionRow>> rows = store->ListExecutions(filter);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<int64_t> result;
    if (!rows.ok()) return result;
    for (const ExecutionRow& row : *rows) {
      EXPECT_TRUE(row.state.empty()) << "list results carry no state";
      result.push_back(row.exec_id);
    }
    return result;
  };
  // The default namespace's filter, changed by `edit`.
  auto filter = [](auto edit) {
    ListFilter f = Filter();
    edit(f);
    return f;
  };
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(ids(Filter()), (Ids{4, 3, 2, 1}));
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.namespace_name = "other"; })), (Ids{5}));
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.workflow_type = "Order"; })), (Ids{2, 1}));
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.workflow_id = "a"; })), (Ids{3, 1}));
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.status = kRunning; })), (Ids{3, 2}));
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.start_time_min_us = 200; })), (Ids{4, 3, 2}));
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.start_time_max_us = 300; })), (Ids{2, 1}));
  EXPECT_EQ(ids(filter([](ListFilter& f) {
              f.start_time_min_us = 200;
              f.start_time_max_us = 400;
            })),
            (Ids{3, 2}));
  EXPECT_EQ(ids(filter([](ListFilter& f) {
              f.workflow_type = "Refund";
              f.status = kCompleted;
            })),
            (Ids{4}));
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.workflow_type = "Nothing"; })), Ids{});
  EXPECT_EQ(ids(filter([](ListFilter& f) { f.limit = 2; })), (Ids{4, 3}));

  ListFilter zero_limit = Filter();
  zero_limit.limit = 0;
  EXPECT_EQ(store->ListExecutions(zero_limit).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, ListExecutionsPaginatesWithBeforeExecId) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Transition t;
  for (int64_t id = 1; id <= 7; ++id) {
    t.executions.push_back(Execution(id, "w" + std::to_string(id), kCompleted));
  }
  ASSERT_TRUE(store->Commit(t).ok());

  std::vector<std::vector<int64_t>> pages;
  ListFilter filter = Filter();
  filter.limit = 3;
  while (true) {
    auto rows = store->ListExecutions(filter);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    if (rows->empty()) break;
    std::vector<int64_t>& page = pages.emplace_back();
    for (const ExecutionRow& row : *rows) page.push_back(row.exec_id);
    filter.before_exec_id = rows->back().exec_id;
  }
  EXPECT_EQ(pages, (std::vector<std::vector<int64_t>>{{7, 6, 5}, {4, 3, 2}, {1}}));
}

TEST_F(SqliteStoreTest, GetCurrentExecutionPicksTheNewestRun) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Transition t;
  t.executions.push_back(Execution(1, "order", kCompleted));
  t.executions.push_back(Execution(4, "order", kCompleted));
  t.executions.push_back(Execution(6, "order", kRunning));
  t.executions.push_back(Execution(9, "other", kRunning));
  ASSERT_TRUE(store->Commit(t).ok());

  auto current = store->GetCurrentExecution(kNamespace, "order");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->exec_id, 6);
  EXPECT_FALSE((*current)->state.empty());
  EXPECT_FALSE(store->GetCurrentExecution("other-namespace", "order")->has_value());

  // A closed run is still the current one when it is the newest.
  Transition close;
  close.executions.push_back(Execution(6, "order", kCompleted));
  ASSERT_TRUE(store->Commit(close).ok());
  EXPECT_EQ((*store->GetCurrentExecution(kNamespace, "order"))->exec_id, 6);
}

TEST_F(SqliteStoreTest, ReadHistoryReturnsTheBatchesOverlappingTheRange) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  // Batches [1-3] [4-4] [5-9] [10-12] of exec 1, and one of exec 2 that must never show.
  Transition t;
  t.history = {Batch(1, 1, 3), Batch(1, 4, 4), Batch(1, 5, 9), Batch(1, 10, 12), Batch(2, 1, 20)};
  ASSERT_TRUE(store->Commit(t).ok());

  auto firsts = [&](int64_t from, int64_t to) {
    Result<std::vector<HistoryBatchRow>> batches = store->ReadHistory(1, from, to);
    EXPECT_TRUE(batches.ok()) << batches.status().ToString();
    std::vector<int64_t> result;
    if (!batches.ok()) return result;
    for (const HistoryBatchRow& batch : *batches) {
      EXPECT_EQ(batch.exec_id, 1);
      result.push_back(batch.first_event_id);
    }
    return result;
  };
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(firsts(1, 0), (Ids{1, 4, 5, 10}));  // everything
  EXPECT_EQ(firsts(0, 0), (Ids{1, 4, 5, 10}));  // from before the first event
  EXPECT_EQ(firsts(2, 0), (Ids{1, 4, 5, 10}));  // the batch holding 2 starts at 1
  EXPECT_EQ(firsts(6, 0), (Ids{5, 10}));        // to the end
  EXPECT_EQ(firsts(4, 4), (Ids{4}));
  EXPECT_EQ(firsts(3, 5), (Ids{1, 4, 5}));  // `to` inside a batch includes it
  EXPECT_EQ(firsts(7, 9), (Ids{5}));
  EXPECT_EQ(firsts(12, 0), (Ids{10}));
  EXPECT_EQ(firsts(13, 0), Ids{});  // beyond the end
  EXPECT_EQ(firsts(1, 3), (Ids{1}));
  EXPECT_EQ(store->ReadHistory(3, 1, 0)->size(), 0u);

  auto batches = store->ReadHistory(1, 5, 9);
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ((*batches)[0].last_event_id, 9);
  EXPECT_EQ((*batches)[0].events, "events 5-9");
}

TEST_F(SqliteStoreTest, LoadTasksReturnsTasksInSeqOrder) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Transition t;
  t.add_tasks = {Task(3, TaskKind::kActivity, 8, 30), Task(1, TaskKind::kWorkflow, 0, 40),
                 Task(2, TaskKind::kActivity, 5, 10), Task(1, TaskKind::kActivity, 5, 20)};
  ASSERT_TRUE(store->Commit(t).ok());
  auto tasks = store->LoadTasks();
  ASSERT_TRUE(tasks.ok());
  std::vector<int64_t> seqs;
  for (const TaskRow& task : *tasks) seqs.push_back(task.seq);
  EXPECT_EQ(seqs, (std::vector<int64_t>{10, 20, 30, 40}));
  EXPECT_EQ((*tasks)[0].key, (TaskKey{2, TaskKind::kActivity, 5}));
  EXPECT_EQ(*store->MaxTaskSeq(), 40);
}

TEST_F(SqliteStoreTest, LoadTimersReturnsTheWindowByFireTime) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Transition t;
  t.add_timers = {Timer(2, TimerKind::kUserTimer, 5, 200), Timer(1, TimerKind::kUserTimer, 9, 100),
                  Timer(1, TimerKind::kActivityRetry, 3, 200),
                  Timer(1, TimerKind::kUserTimer, 7, 200),
                  Timer(3, TimerKind::kWorkflowRunTimeout, 0, 300)};
  ASSERT_TRUE(store->Commit(t).ok());

  auto window = store->LoadTimers(100, 200);  // after < fire_time <= until
  ASSERT_TRUE(window.ok());
  std::vector<TimerKey> keys;
  for (const TimerRow& timer : *window) {
    EXPECT_EQ(timer.fire_time_us, 200);
    keys.push_back(timer.key);
  }
  // Same fire time: by exec_id, then kind, then ref.
  EXPECT_EQ(keys, (std::vector<TimerKey>{{1, TimerKind::kUserTimer, 7},
                                         {1, TimerKind::kActivityRetry, 3},
                                         {2, TimerKind::kUserTimer, 5}}));
  EXPECT_EQ(store->LoadTimers(0, 99)->size(), 0u);
  EXPECT_EQ(store->LoadTimers(99, 100)->size(), 1u);
  EXPECT_EQ(store->LoadTimers(0, 1000)->size(), 5u);
  EXPECT_EQ(store->LoadTimers(300, 1000)->size(), 0u);

  EXPECT_EQ(*store->NextTimerAfter(0), 100);
  EXPECT_EQ(*store->NextTimerAfter(100), 200);
  EXPECT_EQ(*store->NextTimerAfter(250), 300);
  EXPECT_FALSE(store->NextTimerAfter(300)->has_value());
}

TEST_F(SqliteStoreTest, SecondRunningExecutionOfAWorkflowIdIsRefusedAndWritesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "order")).ok());

  Status status = store->Commit(StartRun(2, "order"));
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_NE(status.message().find("already has a running execution"), std::string::npos)
      << status.ToString();
  EXPECT_FALSE(store->GetExecution(2)->has_value());
  EXPECT_TRUE(store->ReadHistory(2, 1, 0)->empty());
  EXPECT_EQ(store->LoadTasks()->size(), 1u);
  EXPECT_EQ(store->LoadTimers(0, 10'000'000)->size(), 1u);
  ExpectRunStored(*store, 1);  // the running run was not replaced or deleted
  EXPECT_EQ((*store->GetExecution(1))->status, kRunning);

  // Once the first run is closed, a new run of the same id is fine.
  Transition close;
  close.executions.push_back(Execution(1, "order", kCompleted));
  ASSERT_TRUE(store->Commit(close).ok());
  EXPECT_TRUE(store->Commit(StartRun(2, "order")).ok());
  EXPECT_EQ((*store->GetCurrentExecution(kNamespace, "order"))->exec_id, 2);
}

TEST_F(SqliteStoreTest, DuplicateRunIdIsRefused) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "a")).ok());
  Transition t = StartRun(2, "b");
  t.executions[0].run_id = "run-1";
  Status status = store->Commit(t);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_NE(status.message().find("run id run-1"), std::string::npos) << status.ToString();
  EXPECT_FALSE(store->GetExecution(2)->has_value());
}

// Commits StartRun(exec_id) for every id from several threads at once, except that the
// transition of `bad_exec_id` (if any) also re-appends exec 1's first batch. Returns the
// statuses by exec id.
std::vector<Status> CommitConcurrently(SqliteStore& store, int threads, int per_thread,
                                       int64_t first_exec_id, int64_t bad_exec_id = 0) {
  std::vector<Status> statuses(threads * per_thread);
  std::latch start(threads);
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) {
        int index = w * per_thread + i;
        int64_t exec_id = first_exec_id + index;
        Transition t = StartRun(exec_id, "wf-" + std::to_string(exec_id));
        if (exec_id == bad_exec_id) t.history.push_back(Batch(1, 1, 3));
        statuses[index] = store.Commit(std::move(t));
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  return statuses;
}

TEST_F(SqliteStoreTest, DuplicateHistoryBatchFailsOnlyItsOwnTransition) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(StartRun(1, "first")).ok());
    // 8 threads x 4 transitions, started together so that they share groups; the one of
    // exec 17 repeats exec 1's batch (1, 1).
    std::vector<Status> statuses = CommitConcurrently(*store, 8, 4, 2, /*bad_exec_id=*/17);
    for (size_t i = 0; i < statuses.size(); ++i) {
      int64_t exec_id = 2 + static_cast<int64_t>(i);
      if (exec_id == 17) {
        EXPECT_EQ(statuses[i].code(), StatusCode::kAlreadyExists) << statuses[i].ToString();
        EXPECT_NE(statuses[i].message().find("history batch of exec_id 1 starting at event 1"),
                  std::string::npos)
            << statuses[i].ToString();
      } else {
        EXPECT_TRUE(statuses[i].ok()) << "exec " << exec_id << ": " << statuses[i].ToString();
      }
    }
  }
  auto store = OpenStore();  // durable, not just visible
  ASSERT_NE(store, nullptr);
  for (int64_t exec_id = 1; exec_id <= 33; ++exec_id) {
    if (exec_id == 17) continue;
    ExpectRunStored(*store, exec_id);
  }
  EXPECT_FALSE(store->GetExecution(17)->has_value());
  EXPECT_TRUE(store->ReadHistory(17, 1, 0)->empty());
  EXPECT_EQ(store->LoadTasks()->size(), 32u);
  EXPECT_EQ(store->LoadTimers(0, 10'000'000)->size(), 32u);
  EXPECT_EQ((*store->ReadHistory(1, 1, 0))[0].events, "events 1-3");
}

TEST_F(SqliteStoreTest, AGroupIsWrittenInOnePassWhenNoTransitionFails) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<Transition> group;
  for (int64_t exec_id = 1; exec_id <= 3; ++exec_id)
    group.push_back(StartRun(exec_id, "wf-" + std::to_string(exec_id)));
  std::vector<Status> statuses = store->CommitTogether(std::move(group));
  ASSERT_EQ(statuses.size(), 3u);
  for (const Status& status : statuses) EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(store->fallback_groups(), 0);
  for (int64_t exec_id = 1; exec_id <= 3; ++exec_id) ExpectRunStored(*store, exec_id);
}

// The optimistic pass fails at the middle transition; the group is written again with
// savepoints, so the transitions before and after it are still committed.
TEST_F(SqliteStoreTest, AFailingTransitionInAGroupIsRolledBackAlone) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(StartRun(1, "first")).ok());
    std::vector<Transition> group;
    group.push_back(StartRun(2, "second"));
    group.push_back(StartRun(3, "third"));
    group.back().history.push_back(Batch(1, 1, 3));  // exec 1's batch again: fails
    group.push_back(StartRun(4, "fourth"));
    std::vector<Status> statuses = store->CommitTogether(std::move(group));
    ASSERT_EQ(statuses.size(), 3u);
    EXPECT_TRUE(statuses[0].ok()) << statuses[0].ToString();
    EXPECT_EQ(statuses[1].code(), StatusCode::kAlreadyExists) << statuses[1].ToString();
    EXPECT_TRUE(statuses[2].ok()) << statuses[2].ToString();
    EXPECT_EQ(store->fallback_groups(), 1);
  }
  auto store = OpenStore();  // durable, not just visible
  ASSERT_NE(store, nullptr);
  for (int64_t exec_id : {1, 2, 4}) ExpectRunStored(*store, exec_id);
  EXPECT_FALSE(store->GetExecution(3)->has_value());
  EXPECT_TRUE(store->ReadHistory(3, 1, 0)->empty());
  EXPECT_EQ(store->LoadTasks()->size(), 3u);
}

TEST_F(SqliteStoreTest, WithoutGroupCommitTransitionsCommitTogetherOneByOne) {
  auto store = OpenStore(/*group_commit=*/false);
  ASSERT_NE(store, nullptr);
  std::vector<Transition> group;
  group.push_back(StartRun(1, "first"));
  group.push_back(StartRun(2, "first"));  // a second running run of the same id: fails
  group.push_back(StartRun(3, "third"));
  std::vector<Status> statuses = store->CommitTogether(std::move(group));
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), StatusCode::kAlreadyExists) << statuses[1].ToString();
  EXPECT_TRUE(statuses[2].ok());
  EXPECT_EQ(store->fallback_groups(), 0);  // groups of one never need a second pass
  ExpectRunStored(*store, 1);
  ExpectRunStored(*store, 3);
  EXPECT_FALSE(store->GetExecution(2)->has_value());
}

class ConcurrentCommitTest : public SqliteStoreTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ConcurrentCommitTest, ManyThreadsCommitAndAllAreDurable) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  {
    auto store = OpenStore(/*group_commit=*/GetParam());
    ASSERT_NE(store, nullptr);
    std::vector<Status> statuses = CommitConcurrently(*store, kThreads, kPerThread, 1);
    for (size_t i = 0; i < statuses.size(); ++i) {
      EXPECT_TRUE(statuses[i].ok()) << "exec " << i + 1 << ": " << statuses[i].ToString();
    }
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->MaxExecId(), kThreads * kPerThread);
  EXPECT_EQ(store->LoadTasks()->size(), static_cast<size_t>(kThreads * kPerThread));
  for (int64_t exec_id = 1; exec_id <= kThreads * kPerThread; ++exec_id) {
    ExpectRunStored(*store, exec_id);
  }
}

INSTANTIATE_TEST_SUITE_P(GroupCommit, ConcurrentCommitTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Grouped" : "OnePerTransaction";
                         });

TEST_F(SqliteStoreTest, ReadsRunWhileTheWriterCommits) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::thread writer([&] {
    for (int64_t exec_id = 1; exec_id <= 100; ++exec_id) {
      EXPECT_TRUE(store->Commit(StartRun(exec_id, "w" + std::to_string(exec_id))).ok());
    }
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 6; ++r) {  // more readers than pooled connections
    readers.emplace_back([&] {
      int64_t last = 0;
      for (int i = 0; i < 50; ++i) {
        Result<int64_t> max = store->MaxExecId();
        ASSERT_TRUE(max.ok()) << max.status().ToString();
        EXPECT_GE(*max, last);  // commits become visible in order, never disappear
        last = *max;
        ASSERT_TRUE(store->ListExecutions(Filter()).ok());
      }
    });
  }
  writer.join();
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(*store->MaxExecId(), 100);
}

// ---- CommitAsync ----

// With no one else writing, the caller writes its own transition (no hand-off) and its
// callback runs before CommitAsync returns, the rows already visible.
TEST_F(SqliteStoreTest, ALoneAsyncCommitIsWrittenByItsCallerAndCallsBackOnceWritten) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  int calls = 0;
  Status status = Internal("not called");
  bool visible = false;
  store->CommitAsync(StartRun(1, "a"), [&](Status st) {
    ++calls;
    status = std::move(st);
    visible = store->GetExecution(1).ok() && store->GetExecution(1)->has_value();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(visible);
  ExpectRunStored(*store, 1);
}

TEST_F(SqliteStoreTest, TheWriterThreadWritesAsyncCommitsAndCallsBackFromThere) {
  auto store = OpenStore(true, /*caller_writes_lone_async_commit=*/false);
  ASSERT_NE(store, nullptr);
  std::promise<void> called;
  Status status = Internal("not called");
  bool visible = false;
  std::thread::id thread;
  store->CommitAsync(StartRun(1, "a"), [&](Status st) {
    status = std::move(st);
    visible = store->GetExecution(1).ok() && store->GetExecution(1)->has_value();
    thread = std::this_thread::get_id();
    called.set_value();
  });
  called.get_future().wait();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(visible);
  EXPECT_NE(thread, std::this_thread::get_id());
  ExpectRunStored(*store, 1);
}

TEST_F(SqliteStoreTest, AFailingAsyncTransitionIsReportedToItsCallbackAndWritesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(StartRun(1, "first")).ok());
  Transition bad = StartRun(2, "second");
  bad.history.push_back(Batch(1, 1, 3));  // exec 1's batch again
  std::promise<Status> outcome;
  store->CommitAsync(std::move(bad), [&](Status st) { outcome.set_value(std::move(st)); });
  Status st = outcome.get_future().get();
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_FALSE(store->GetExecution(2)->has_value());
  EXPECT_EQ(store->LoadTasks()->size(), 1u);
}

// Callers of Commit and of CommitAsync queue together: every transition is written once
// and every callback runs once, whichever thread writes the group.
TEST_F(SqliteStoreTest, WaitingAndAsyncCommitsFromManyThreadsAreAllWrittenOnce) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 6, kPerThread = 30;
  std::atomic<int> callbacks{0}, failed{0};
  std::latch all_called(kThreads / 2 * kPerThread);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t exec_id = 1 + w * kPerThread + i;
        Transition t = StartRun(exec_id, "wf-" + std::to_string(exec_id));
        if (w % 2 == 0) {
          if (!store->Commit(std::move(t)).ok()) ++failed;
        } else {
          store->CommitAsync(std::move(t), [&](Status st) {
            if (!st.ok()) ++failed;
            ++callbacks;
            all_called.count_down();
          });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  all_called.wait();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(callbacks, kThreads / 2 * kPerThread);
  for (int64_t exec_id = 1; exec_id <= kThreads * kPerThread; ++exec_id) ExpectRunStored(*store, exec_id);
  EXPECT_EQ(store->LoadTasks()->size(), static_cast<size_t>(kThreads * kPerThread));
}

// A callback may commit again (a server's answer can): it is not the writer any more.
TEST_F(SqliteStoreTest, ACallbackMayCommitItself) {
  auto store = OpenStore(true, /*caller_writes_lone_async_commit=*/false);
  ASSERT_NE(store, nullptr);
  std::promise<Status> inner;
  store->CommitAsync(StartRun(1, "a"), [&](Status) { inner.set_value(store->Commit(StartRun(2, "b"))); });
  Status st = inner.get_future().get();
  EXPECT_TRUE(st.ok()) << st.ToString();
  ExpectRunStored(*store, 2);
}

// Closing the store writes what is queued and runs its callbacks before it returns.
TEST_F(SqliteStoreTest, ClosingTheStoreWritesQueuedAsyncCommitsAndRunsTheirCallbacks) {
  constexpr int kCommits = 50;
  std::atomic<int> ok{0};
  {
    auto store = OpenStore(true, /*caller_writes_lone_async_commit=*/false);  // all queued for the writer
    ASSERT_NE(store, nullptr);
    for (int64_t exec_id = 1; exec_id <= kCommits; ++exec_id) {
      store->CommitAsync(StartRun(exec_id, "wf-" + std::to_string(exec_id)), [&](Status st) {
        if (st.ok()) ++ok;
      });
    }
  }
  EXPECT_EQ(ok, kCommits);
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (int64_t exec_id = 1; exec_id <= kCommits; ++exec_id) ExpectRunStored(*store, exec_id);
}

// The record of a clean close (migration 3): kept across a reopen, read once, replaced
// by the next record.
TEST_F(SqliteStoreTest, ACleanCloseIsRecordedUntilTakenOnce) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto none = store->TakeCleanClose();
    ASSERT_TRUE(none.ok()) << none.status().ToString();
    EXPECT_FALSE(none->has_value());
    CleanClose first;
    first.close_time_us = 1;
    first.running = {{7, TaskKind::kActivity, 5}};
    ASSERT_TRUE(store->RecordCleanClose(first).ok());
    CleanClose second;
    second.close_time_us = 42;
    second.running = {{3, TaskKind::kActivity, 9}, {2, TaskKind::kActivity, 11}, {2, TaskKind::kActivity, 11}};
    ASSERT_TRUE(store->RecordCleanClose(second).ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto taken = store->TakeCleanClose();
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  ASSERT_TRUE(taken->has_value());
  EXPECT_EQ((*taken)->close_time_us, 42);
  const std::vector<TaskKey> expected = {{2, TaskKind::kActivity, 11}, {3, TaskKind::kActivity, 9}};
  EXPECT_EQ((*taken)->running, expected);
  auto again = store->TakeCleanClose();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

}  // namespace
}  // namespace keel::store
