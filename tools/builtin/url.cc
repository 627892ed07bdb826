#include "tools/builtin/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace keel::tools::internal {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}
bool IsV6Char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

int DefaultPort(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

// "host", "host:port", "[v6]" or "[v6]:port" -> host (lower-case, no brackets) and port
// (0 = none given).
Result<std::pair<std::string, int>> SplitHostPort(std::string_view authority) {
  std::string_view host;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), IsV6Char))
      return InvalidArgument("bad IPv6 address");
    rest = authority.substr(close + 1);
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    if (!host.empty() && host.back() == '.')
      host.remove_suffix(1);  // "example.com." is example.com
    if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostChar) || host.front() == '.' ||
        host.find("..") != std::string_view::npos) {
      return InvalidArgument("bad host name '" + std::string(host) + "'");
    }
  }
  int port = 0;
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2) return InvalidArgument("bad port");
    rest.remove_prefix(1);
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
    if (ec != std::errc() || end != rest.data() + rest.size() || port < 1 || port > 65535) {
      return InvalidArgument("bad port");
    }
  }
  return std::make_pair(Lower(host), port);
}

}  // namespace

std::string Url::ToString() const {
  std::string out =
      scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host);
  if (port != DefaultPort(scheme)) out += ":" + std::to_string(port);
  return out + target;
}

Result<Url> ParseHttpUrl(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '\\') {
      return InvalidArgument(
          "URLs must be ASCII without spaces or backslashes (percent-encode other characters)");
    }
  }
  size_t sep = text.find("://");
  if (sep == std::string_view::npos)
    return InvalidArgument("not an absolute URL (expected http:// or https://)");
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return InvalidArgument("scheme '" + url.scheme + "' is not allowed (only http and https)");
  }
  std::string_view rest = text.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos)
    return InvalidArgument("URLs with credentials are not allowed");
  KEEL_ASSIGN_OR_RETURN(auto host_port, SplitHostPort(authority));
  url.host = host_port.first;
  url.port = host_port.second == 0 ? DefaultPort(url.scheme) : host_port.second;
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  target = target.substr(0, target.find('#'));
  url.target =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return url;
}

namespace {

// "https:..." but not "/next?to=https://...": a scheme is letters, digits, + - . before ':'.
bool HasScheme(std::string_view location) {
  size_t colon = location.find(':');
  if (colon == 0 || colon == std::string_view::npos ||
      !std::isalpha(static_cast<unsigned char>(location[0]))) {
    return false;
  }
  return std::all_of(location.begin(), location.begin() + colon, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

}  // namespace

Result<Url> ResolveLocation(const Url& base, std::string_view location) {
  if (HasScheme(location)) return ParseHttpUrl(location);
  if (location.rfind("//", 0) == 0) return ParseHttpUrl(base.scheme + ":" + std::string(location));
  std::string origin = Url{base.scheme, base.host, base.port, ""}.ToString();
  if (!location.empty() && location.front() == '/')
    return ParseHttpUrl(origin + std::string(location));
  std::string path = base.target.substr(0, base.target.find('?'));
  path = path.substr(0, path.rfind('/') + 1);
  return ParseHttpUrl(origin + path + std::string(location));
}

bool HostAllowed(const Url& url, const std::vector<std::string>& allowed) {
  for (const auto& raw : allowed) {
    std::string entry = Lower(raw);
    if (entry.rfind("*.", 0) == 0) {
      std::string suffix = entry.substr(1);  // ".example.com"
      if (url.host.size() > suffix.size() &&
          url.host.compare(url.host.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return true;
      }
      continue;
    }
    auto host_port = SplitHostPort(entry);
    if (!host_port.ok()) continue;
    if (host_port->first == url.host && (host_port->second == 0 || host_port->second == url.port))
      return true;
  }
  return false;
}

}  // namespace keel::tools::internal
