// The built-in "http_get" tool: fetches an http(s) URL whose host is on an allow-list,
// with a time limit and a response size limit; redirects are followed only to allowed
// hosts (never from https to http). Outcomes: HTTP 4xx, a disallowed host, a bad URL or
// an oversized body are error results; a timeout, a failed connection, HTTP 429 and 5xx
// throw a retryable keel::ApplicationError. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/http.h"
#include "tools/tool.h"

namespace keel::tools {

struct HttpGetOptions {
  // "api.example.com" (that host, any port), "*.example.com" (its subdomains, not the
  // domain itself), "127.0.0.1:8080" or "[::1]:8080" (that host and port). Empty: the
  // tool refuses every URL.
  std::vector<std::string> allowed_hosts;
  Duration timeout = std::chrono::seconds(20);  // per request; ToolContext::deadline may shorten it
  size_t max_response_bytes = 1 << 20;
  int max_redirects = 5;
  std::string user_agent = "keel-http-get/0.1";
  // Default: a libcurl transport owned by the tool.
  std::shared_ptr<http::Transport> transport;
  // For ToolContext::deadline. Default: Clock::System().
  Clock* clock = nullptr;
};

// Arguments: {"url": "https://..."}. Result: the body as text, and structured
// {"url": final URL, "status": 200, "content_type": "...", "bytes": n}.
std::shared_ptr<Tool> NewHttpGetTool(HttpGetOptions options);

}  // namespace keel::tools
