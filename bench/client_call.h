// How W1 and W2 start a workflow and wait for its result (--client-call): one
// Client::ExecuteWorkflow call, or StartWorkflow then GetResult (two calls to keeld).
#pragma once

#include <string>

#include "bench/options.h"
#include "engine/client.h"

namespace keel::bench {

template <typename R, typename Arg>
R StartAndWait(Client& client, const BenchOptions& options, const char* workflow_type,
               const std::string& id, const Arg& arg) {
  if (options.client_call == "execute")
    return client.ExecuteWorkflow<R>(workflow_type, {.id = id}, arg);
  client.StartWorkflow(workflow_type, {.id = id}, arg);
  return client.GetResult<R>(id);
}

}  // namespace keel::bench
