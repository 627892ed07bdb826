// History: one run's events, the unit users export, attach to bug reports, check into
// replay tests and replay in a debugger. ToJson/FromJson is lossless (proto JSON with
// the proto field names). A value type; thread-compatible.
#pragma once

#include <string>

#include "engine/status.h"
#include "keel/v1/history.pb.h"

namespace keel {

class History {
 public:
  History() = default;
  explicit History(v1::History proto) : proto_(std::move(proto)) {}

  // Parses an exported history and checks it is well formed: event ids 1..n without
  // gaps, the first event WorkflowExecutionStarted. Errors name the offending event.
  static Result<History> FromJson(const std::string& json);
  static Result<History> FromJsonFile(const std::string& path);
  std::string ToJson() const;
  Status WriteJsonFile(const std::string& path) const;

  const v1::History& proto() const { return proto_; }
  v1::History& mutable_proto() { return proto_; }
  const std::string& WorkflowId() const { return proto_.workflow_execution().workflow_id(); }
  const std::string& RunId() const { return proto_.workflow_execution().run_id(); }
  const std::string& WorkflowType() const { return proto_.workflow_type(); }
  int size() const { return proto_.events_size(); }
  const v1::HistoryEvent& event(int i) const { return proto_.events(i); }

  // A short human-readable timeline: one line per event, e.g.
  //   "  5  +0.002s  ActivityTaskScheduled  greet (id 1)"
  std::string Timeline() const;

 private:
  v1::History proto_;
};

}  // namespace keel
