#include "tools/http_get_tool.h"

#include <algorithm>
#include <charconv>

#include "engine/errors.h"
#include "tools/builtin/url.h"
#include "tools/internal/utf8.h"

namespace keel::tools {

namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool IsText(const std::string& content_type) {
  return content_type.empty() || content_type.rfind("text/", 0) == 0 ||
         content_type.find("json") != std::string::npos ||
         content_type.find("xml") != std::string::npos ||
         content_type.find("javascript") != std::string::npos;
}

std::optional<Duration> RetryAfter(const http::Response& response) {
  std::string value = response.Header("retry-after");
  int seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0)
    return std::nullopt;
  return std::chrono::seconds(std::min(seconds, 3600));
}

class HttpGetTool final : public Tool {
 public:
  explicit HttpGetTool(HttpGetOptions options)
      : Tool(ToolSpec{
            .name = "http_get",
            .description =
                "Fetches a web page or API response with HTTP GET and returns its body. Only "
                "these hosts are allowed: " +
                Join(options.allowed_hosts) + ".",
            .input_schema = Json{{"type", "object"},
                                 {"properties",
                                  {{"url",
                                    {{"type", "string"},
                                     {"description", "An absolute http:// or https:// URL."}}}}},
                                 {"required", {"url"}},
                                 {"additionalProperties", false}},
            .annotations = {.read_only_hint = true,
                            .destructive_hint = false,
                            .idempotent_hint = true,
                            .open_world_hint = true}}),
        options_(std::move(options)) {
    if (!options_.transport) options_.transport = http::NewCurlTransport();
    if (options_.clock == nullptr) options_.clock = &Clock::System();
  }

 protected:
  ToolResult Run(const Json& args, const ToolContext& ctx) const override {
    const std::string requested = args.at("url").get<std::string>();
    auto parsed = internal::ParseHttpUrl(requested);
    if (!parsed.ok())
      return ToolResult::Error("cannot fetch '" + requested + "': " + parsed.status().message());
    internal::Url url = *parsed;
    for (int redirects = 0;; ++redirects) {
      if (!internal::HostAllowed(url, options_.allowed_hosts)) {
        return ToolResult::Error("cannot fetch " + url.ToString() + ": host '" + url.host +
                                 "' is not on the allow-list (" + Join(options_.allowed_hosts) +
                                 ")");
      }
      http::Response response = Fetch(url, ctx);
      if (!IsRedirect(response.status)) return Finish(url, response);
      std::string location = response.Header("location");
      if (location.empty()) return Finish(url, response);
      if (redirects >= options_.max_redirects) {
        return ToolResult::Error("cannot fetch '" + requested + "': more than " +
                                 std::to_string(options_.max_redirects) + " redirects");
      }
      auto next = internal::ResolveLocation(url, location);
      if (!next.ok()) {
        return ToolResult::Error(url.ToString() +
                                 " redirected to an unusable URL: " + next.status().message());
      }
      if (url.scheme == "https" && next->scheme == "http") {
        return ToolResult::Error(url.ToString() + " redirected from https to http (" +
                                 next->ToString() + "); refused");
      }
      url = *next;
    }
  }

 private:
  http::Response Fetch(const internal::Url& url, const ToolContext& ctx) const {
    ctx.ThrowIfCancelled();
    Duration timeout = options_.timeout;
    if (ctx.deadline) timeout = std::min(timeout, *ctx.deadline - options_.clock->Now());
    if (timeout <= Duration::zero()) {
      throw ApplicationError("HttpGetTimeout",
                             "GET " + url.ToString() + ": the call's deadline has passed");
    }
    http::Request request{.method = "GET",
                          .url = url.ToString(),
                          .headers = {{"User-Agent", options_.user_agent},
                                      {"Accept", "text/*, application/json;q=0.9, */*;q=0.5"}},
                          .timeout = timeout,
                          .connect_timeout = std::min(timeout, Duration(std::chrono::seconds(10))),
                          .max_response_bytes = options_.max_response_bytes,
                          .cancelled = ctx.is_cancelled};
    auto response = options_.transport->Send(request);
    if (response.ok()) return std::move(response).value();
    const Status& s = response.status();
    switch (s.code()) {
      case StatusCode::kDeadlineExceeded:
        throw ApplicationError("HttpGetTimeout", s.message());
      case StatusCode::kCancelled:
        throw CanceledError(s.message());
      case StatusCode::kResourceExhausted:
      case StatusCode::kInvalidArgument:
        throw ToolError("cannot fetch " + url.ToString() + ": " + s.message());
      default:
        throw ApplicationError("HttpGetUnavailable", s.message());
    }
  }

  ToolResult Finish(const internal::Url& url, const http::Response& response) const {
    const std::string where = "GET " + url.ToString();
    std::string content_type = response.Header("content-type");
    if (response.status == 429 || response.status >= 500) {
      throw ApplicationError("HttpGetUnavailable",
                             where + ": HTTP " + std::to_string(response.status),
                             {.next_retry_delay = RetryAfter(response)});
    }
    bool binary = !IsText(content_type) && internal::LooksBinary(response.body);
    std::string body = binary ? "[binary content: " + content_type + ", " +
                                    std::to_string(response.body.size()) + " bytes]"
                              : internal::ValidUtf8(response.body);
    if (response.status >= 400) {
      return ToolResult::Error(where + ": HTTP " + std::to_string(response.status) + "\n" +
                               internal::ValidUtf8(body.substr(0, 2000)));
    }
    ToolResult result = ToolResult::Text(std::move(body));
    result.structured = Json{{"url", url.ToString()},
                             {"status", response.status},
                             {"content_type", content_type},
                             {"bytes", response.body.size()}};
    return result;
  }

  HttpGetOptions options_;
};

}  // namespace

std::shared_ptr<Tool> NewHttpGetTool(HttpGetOptions options) {
  return std::make_shared<HttpGetTool>(std::move(options));
}

}  // namespace keel::tools
