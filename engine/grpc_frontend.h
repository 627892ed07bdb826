// GrpcFrontend: the Frontend of an engine running in keeld, over gRPC. A Client or a
// Worker built on it behaves as on the embedded Engine. Long polls get a deadline longer
// than the server's poll timeout. While keeld is unreachable (restarting, not started
// yet) worker polls wait for it, up to their deadline, and ShutdownWorker ends them; a
// worker's results (a task completed, failed or canceled) wait for it and are sent again,
// up to deliver_wait; every other call waits up to connect_wait and then fails with
// UNAVAILABLE (retry it with the same request id). The channel tries to reconnect at least once a second. The
// token is sent as bearer metadata and never logged. The two polls and the two completions
// a worker sends most, and a client's start, go as messages on open WorkerStream calls
// while keeld is reachable (remote/worker_stream_client.h), and as calls of their own
// otherwise; PrepareConcurrentCalls opens such streams ahead (a Worker does at Start).
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engine/clock.h"
#include "engine/frontend.h"
#include "engine/status.h"

namespace keel {

struct ConnectOptions {
  std::string address = "127.0.0.1:7070";
  // Sent as "authorization: Bearer <token>" (keeld --tokens). Default: $KEEL_TOKEN.
  std::string token;
  // PEM file of the CA that signed keeld's certificate; empty = plaintext.
  std::string tls_ca_file;
  Duration call_timeout = std::chrono::seconds(30);  // ordinary calls
  Duration poll_timeout = std::chrono::seconds(70);  // long polls (keeld's default poll timeout is 60 s)
  // How long a call waits for a connection to keeld before failing with UNAVAILABLE.
  Duration connect_wait = std::chrono::seconds(1);
  // How long a worker's result keeps trying to reach keeld while keeld is away or
  // stopping (a restart, a deploy), or cannot write (RESOURCE_EXHAUSTED: disk full). A result keeld may already have recorded is sent
  // again too: keeld refuses the repeat (NOT_FOUND), so none is recorded twice. One not
  // delivered by then is lost, and keeld runs the task again when its timeout expires.
  Duration deliver_wait = std::chrono::seconds(60);
  // On every open connection, with or without calls under way, a ping after this long
  // without a word from keeld; no answer within `keepalive_timeout` ends the connection,
  // and its calls fail with UNAVAILABLE (a worker then connects again). gRPC also ends
  // a connection whose sent data goes unacknowledged for `keepalive_timeout`. Without
  // them, a connection that died without a word (keeld's host went down, a NAT or
  // firewall dropped it) would keep every call waiting out its timeout, again and again,
  // until TCP gives up, about 15 minutes later. 0: no pings (negative is refused).
  // keeld takes a ping every 5 s when it has sent nothing since the last; a client that
  // pings more often than that three times is disconnected.
  Duration keepalive = std::chrono::seconds(30);
  Duration keepalive_timeout = std::chrono::seconds(15);
  // The connections to keeld that the worker streams are spread over, 1 to 64: streams
  // open on them in turn (skipping one that is failing), the first on the connection
  // every other call uses; the others connect when their first stream opens. Each side
  // reads and writes a connection on one thread at a time, so a busy worker's streams on
  // a few connections use more cores on both sides (docs/benchmarks.md, "Twelfth
  // session").
  int stream_connections = 4;
};


// Creates the channels (each connects lazily, on its first call). Errors: a bad address or
// an unreadable CA file.
Result<std::unique_ptr<Frontend>> ConnectToServer(ConnectOptions options);

}  // namespace keel
