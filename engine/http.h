// HTTP for LLM providers and tools: a Transport interface (inject a fake in tests, or a
// recording one) and a libcurl implementation with connection reuse, timeouts, the
// system's CA certificates (or the bundle named by SSL_CERT_FILE / CURL_CA_BUNDLE), the
// standard proxy variables (http_proxy, https_proxy, no_proxy) and TCP keep-alive for long
// model calls. Errors never include request headers (where API keys live). Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/clock.h"
#include "engine/status.h"

namespace keel::http {

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(60);         // whole request
  Duration connect_timeout = std::chrono::seconds(10);
  size_t max_response_bytes = 0;                        // 0 = no limit
  // Polled while the request is in flight (a few times a second); true aborts it with
  // kCancelled. Empty: never cancelled.
  std::function<bool()> cancelled;
};

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The first header named `name` (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // A response for any HTTP status; an error Status only when no response came:
  // kUnavailable (connection refused or reset, DNS), kDeadlineExceeded (timeout),
  // kResourceExhausted (body over max_response_bytes), kInvalidArgument (bad URL),
  // kCancelled (Request::cancelled said so).
  virtual Result<Response> Send(const Request& request) = 0;
};

// libcurl, with a pool of reusable handles (keep-alive connections).
std::unique_ptr<Transport> NewCurlTransport();

}  // namespace keel::http
