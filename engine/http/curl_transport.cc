#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <mutex>

#include "engine/http.h"

namespace keel::http {

std::string Response::Header(std::string_view name) const {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& [k, v] : headers) {
    if (k == lower) return v;
  }
  return "";
}

namespace {

struct Collect {
  Response* response;
  size_t limit;
  bool overflow = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collect*>(user);
  size_t bytes = size * n;
  if (c->limit > 0 && c->response->body.size() + bytes > c->limit) {
    c->overflow = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  c->response->body.append(data, bytes);
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancelled = static_cast<const std::function<bool()>*>(user);
  return (*cancelled)() ? 1 : 0;  // non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK)
}

// A CA bundle named in the environment (curl's command line reads these; libcurl does not).
const char* CaBundleFromEnv() {
  for (const char* name : {"SSL_CERT_FILE", "CURL_CA_BUNDLE"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return nullptr;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collect*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) c->response->headers.clear();  // a new response (after 100 or a redirect)
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string key = line.substr(0, colon);
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return std::tolower(ch); });
    std::string value = line.substr(colon + 1);
    auto not_space = [](unsigned char ch) { return !std::isspace(ch); };
    value.erase(value.begin(), std::find_if(value.begin(), value.end(), not_space));
    value.erase(std::find_if(value.rbegin(), value.rend(), not_space).base(), value.end());
    c->response->headers.emplace_back(std::move(key), std::move(value));
  }
  return size * n;
}

// The URL without its query string: error messages must not leak credentials passed there.
std::string Redacted(const std::string& url) { return url.substr(0, url.find('?')); }

class CurlTransport final : public Transport {
 public:
  CurlTransport() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  Result<Response> Send(const Request& request) override {
    CURL* h = Take();
    Response response;
    Collect collect{&response, request.max_response_bytes};
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
    // No "Expect: 100-continue" on large bodies: it can stall a request for a second.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout).count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(
                         std::chrono::duration_cast<std::chrono::milliseconds>(request.connect_timeout).count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &collect);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &collect);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // callers decide about redirects
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);     // reasoning calls can be silent for minutes
    if (const char* ca = CaBundleFromEnv()) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    if (request.cancelled) {
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, &request.cancelled);
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    // Clear per-request options so a pooled handle carries nothing (such as an
    // Authorization header) into the next request.
    curl_easy_reset(h);
    Give(h);
    const std::string where = request.method + " " + Redacted(request.url);
    if (collect.overflow) {
      return ResourceExhausted(where + ": response larger than " + std::to_string(request.max_response_bytes) +
                               " bytes");
    }
    switch (rc) {
      case CURLE_OK:
        response.status = static_cast<int>(status);
        return response;
      case CURLE_OPERATION_TIMEDOUT:
        return DeadlineExceeded(where + ": timed out");
      case CURLE_ABORTED_BY_CALLBACK:
        return Cancelled(where + ": cancelled");
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return InvalidArgument(where + ": " + curl_easy_strerror(rc));
      default:
        return Unavailable(where + ": " + curl_easy_strerror(rc));
    }
  }

 private:
  CURL* Take() {
    std::lock_guard<std::mutex> g(mu_);
    if (idle_.empty()) return curl_easy_init();
    CURL* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  void Give(CURL* h) {
    std::lock_guard<std::mutex> g(mu_);
    idle_.push_back(h);
  }

  std::mutex mu_;
  std::vector<CURL*> idle_;  // handles keep their connection cache: keep-alive across calls
};

}  // namespace

std::unique_ptr<Transport> NewCurlTransport() { return std::make_unique<CurlTransport>(); }

}  // namespace keel::http
