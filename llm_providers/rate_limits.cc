#include "llm_providers/rate_limits.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <string_view>

namespace keel::llm {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<double> ParseNumber(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  s = Trim(s);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Duration FromSeconds(double seconds) {
  return duration_cast<Duration>(std::chrono::duration<double>(std::max(0.0, seconds)));
}

Duration NonNegative(Duration d) { return d < Duration::zero() ? Duration::zero() : d; }

const std::string* Find(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// A reset value: an absolute time (Anthropic), a Go duration (OpenAI) or plain seconds.
std::optional<Duration> ParseReset(std::string_view value, Time now) {
  if (auto t = ParseRfc3339(value)) return NonNegative(*t - now);
  if (auto d = ParseGoDuration(value)) return d;
  if (auto s = ParseNumber(value)) return FromSeconds(*s);
  return std::nullopt;
}

int MonthFromName(std::string_view name) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (name == kMonths[i]) return i + 1;
  }
  return 0;
}

std::optional<Time> MakeTime(int y, int mo, int d, int h, int mi, int s) {
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return time_point_cast<Duration>(sys_days{ymd} + hours{h} + minutes{mi} + seconds{s});
}

// Reads `n` digits at `pos`.
std::optional<int> Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

bool RateLimits::empty() const {
  return requests.empty() && tokens.empty() && input_tokens.empty() && output_tokens.empty() &&
         !retry_after && headers.empty();
}

std::optional<Duration> ParseGoDuration(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  double total_seconds = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    auto number = ParseNumber(text.substr(start, i - start));
    if (!number) return std::nullopt;
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) &&
           text[i] != '.') {
      ++i;
    }
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "h") {
      scale = 3600;
    } else if (unit == "m") {
      scale = 60;
    } else if (unit == "s") {
      scale = 1;
    } else if (unit == "ms") {
      scale = 1e-3;
    } else if (unit == "us" || unit == "\xC2\xB5s") {
      scale = 1e-6;
    } else if (unit == "ns") {
      scale = 1e-9;
    } else {
      return std::nullopt;
    }
    total_seconds += *number * scale;
  }
  return FromSeconds(total_seconds);
}

std::optional<Time> ParseRfc3339(std::string_view s) {
  s = Trim(s);
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  auto h = Digits(s, 11, 2), mi = Digits(s, 14, 2), sec = Digits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
  auto t = MakeTime(*y, *mo, *d, *h, *mi, *sec);
  if (!t) return std::nullopt;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return std::nullopt;
    auto fraction = ParseNumber("0." + std::string(s.substr(start, pos - start)));
    *t += duration_cast<Duration>(std::chrono::duration<double>(*fraction));
  }
  if (pos == s.size()) return std::nullopt;  // the offset is required
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size() ? t : std::nullopt;
  if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
    auto oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (!oh || !om) return std::nullopt;
    auto offset = std::chrono::hours(*oh) + std::chrono::minutes(*om);
    return s[pos] == '+' ? *t - offset : *t + offset;
  }
  return std::nullopt;
}

std::optional<Time> ParseHttpDate(std::string_view s) {
  s = Trim(s);
  // "Wed, 21 Oct 2015 07:28:00 GMT"
  if (s.size() != 29 || s[3] != ',' || s.substr(26) != "GMT") return std::nullopt;
  auto d = Digits(s, 5, 2), y = Digits(s, 12, 4);
  auto h = Digits(s, 17, 2), mi = Digits(s, 20, 2), sec = Digits(s, 23, 2);
  int mo = MonthFromName(s.substr(8, 3));
  if (!d || !y || !h || !mi || !sec || mo == 0) return std::nullopt;
  return MakeTime(*y, mo, *d, *h, *mi, *sec);
}

std::optional<Duration> ParseRetryAfter(const Headers& headers, Time now) {
  if (const auto* ms = Find(headers, "retry-after-ms")) {
    if (auto v = ParseNumber(*ms)) return FromSeconds(*v / 1000.0);
  }
  if (const auto* ra = Find(headers, "retry-after")) {
    if (auto v = ParseNumber(*ra)) return FromSeconds(*v);
    if (auto t = ParseHttpDate(*ra)) return NonNegative(*t - now);
  }
  return std::nullopt;
}

RateLimits ParseRateLimits(const Headers& headers, Time now) {
  RateLimits r;
  // OpenAI: x-ratelimit-{limit,remaining,reset}-{requests,tokens}.
  // Anthropic:
  // anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}.
  auto window_for = [&r](std::string_view name) -> RateLimitWindow* {
    if (name == "requests") return &r.requests;
    if (name == "tokens") return &r.tokens;
    if (name == "input-tokens") return &r.input_tokens;
    if (name == "output-tokens") return &r.output_tokens;
    return nullptr;
  };
  auto set = [&](RateLimitWindow* w, std::string_view field, const std::string& value) {
    if (w == nullptr) return;
    if (field == "limit") {
      w->limit = ParseInt(value);
    } else if (field == "remaining") {
      w->remaining = ParseInt(value);
    } else if (field == "reset") {
      w->reset_after = ParseReset(value, now);
    }
  };
  for (const auto& [name, value] : headers) {
    std::string_view n = name;
    if (n.rfind("x-ratelimit-", 0) == 0) {
      r.headers[name] = value;
      n.remove_prefix(12);  // "limit-requests"
      auto dash = n.find('-');
      if (dash == std::string_view::npos) continue;
      set(window_for(n.substr(dash + 1)), n.substr(0, dash), value);
    } else if (n.rfind("anthropic-ratelimit-", 0) == 0) {
      r.headers[name] = value;
      n.remove_prefix(20);  // "input-tokens-remaining"
      auto dash = n.rfind('-');
      if (dash == std::string_view::npos) continue;
      set(window_for(n.substr(0, dash)), n.substr(dash + 1), value);
    }
  }
  r.retry_after = ParseRetryAfter(headers, now);
  return r;
}

namespace {
int64_t Millis(Duration d) { return duration_cast<milliseconds>(d).count(); }
}  // namespace

void to_json(nlohmann::json& j, const RateLimitWindow& w) {
  j = nlohmann::json::object();
  if (w.limit) j["limit"] = *w.limit;
  if (w.remaining) j["remaining"] = *w.remaining;
  if (w.reset_after) j["reset_after_ms"] = Millis(*w.reset_after);
}

void from_json(const nlohmann::json& j, RateLimitWindow& w) {
  w = {};
  if (j.contains("limit")) w.limit = j.at("limit").get<int64_t>();
  if (j.contains("remaining")) w.remaining = j.at("remaining").get<int64_t>();
  if (j.contains("reset_after_ms"))
    w.reset_after = milliseconds(j.at("reset_after_ms").get<int64_t>());
}

void to_json(nlohmann::json& j, const RateLimits& r) {
  j = nlohmann::json::object();
  if (!r.requests.empty()) j["requests"] = r.requests;
  if (!r.tokens.empty()) j["tokens"] = r.tokens;
  if (!r.input_tokens.empty()) j["input_tokens"] = r.input_tokens;
  if (!r.output_tokens.empty()) j["output_tokens"] = r.output_tokens;
  if (r.retry_after) j["retry_after_ms"] = Millis(*r.retry_after);
  if (!r.headers.empty()) j["headers"] = r.headers;
}

void from_json(const nlohmann::json& j, RateLimits& r) {
  r = {};
  if (j.contains("requests")) r.requests = j.at("requests").get<RateLimitWindow>();
  if (j.contains("tokens")) r.tokens = j.at("tokens").get<RateLimitWindow>();
  if (j.contains("input_tokens")) r.input_tokens = j.at("input_tokens").get<RateLimitWindow>();
  if (j.contains("output_tokens")) r.output_tokens = j.at("output_tokens").get<RateLimitWindow>();
  if (j.contains("retry_after_ms"))
    r.retry_after = milliseconds(j.at("retry_after_ms").get<int64_t>());
  if (j.contains("headers")) r.headers = j.at("headers").get<std::map<std::string, std::string>>();
}

}  // namespace keel::llm
