// Url: the strict http(s) URL parser behind http_get's allow-list. It accepts a small,
// unambiguous subset (ASCII only, no credentials, a plain host name or IP literal) and
// rebuilds the URL that is sent, so the host checked is the host contacted. Values; pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace keel::tools::internal {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case; IPv6 without brackets
  int port = 0;        // the scheme's default when the URL gives none
  std::string target;  // path and query, starting with '/'; no fragment

  // The canonical form: scheme://host[:port]target (default port left out).
  std::string ToString() const;
};

// kInvalidArgument with the reason for anything outside the subset.
Result<Url> ParseHttpUrl(std::string_view text);

// The URL a Location header points to, relative to `base`.
Result<Url> ResolveLocation(const Url& base, std::string_view location);

// True when an entry of `allowed` admits the URL's host (and port, if the entry has one).
// Entries: "host", "*.domain", "host:port", "[v6]", "[v6]:port".
bool HostAllowed(const Url& url, const std::vector<std::string>& allowed);

}  // namespace keel::tools::internal
