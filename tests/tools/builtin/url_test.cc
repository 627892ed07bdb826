#include "tools/builtin/url.h"

#include <gtest/gtest.h>

namespace keel::tools::internal {
namespace {

std::string Canonical(const std::string& text) {
  auto url = ParseHttpUrl(text);
  return url.ok() ? url->ToString() : "ERROR: " + url.status().message();
}

TEST(UrlTest, ParsesAndRebuildsTheUrlThatIsSent) {
  EXPECT_EQ(Canonical("https://Example.COM/a/b?q=1#frag"), "https://example.com/a/b?q=1");
  EXPECT_EQ(Canonical("http://example.com"), "http://example.com/");
  EXPECT_EQ(Canonical("http://example.com:80/x"), "http://example.com/x");
  EXPECT_EQ(Canonical("http://example.com.:8080?x"), "http://example.com:8080/?x");
  EXPECT_EQ(Canonical("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
  EXPECT_EQ(Canonical("http://[::1]:8080/p"), "http://[::1]:8080/p");
}

TEST(UrlTest, RefusesAnythingAmbiguous) {
  for (const char* bad :
       {"ftp://example.com/", "file:///etc/passwd", "example.com/x", "http://user:pw@example.com/",
        "http://allowed.com@evil.com/", "http://exa mple.com/", "http://example.com\\@evil.com/",
        "http://ex%61mple.com/", "http://example.com:0/", "http://example.com:99999/",
        "http://example.com:/", "http://[::1/", "http:///x", "http://..com/",
        "http://caf\xc3\xa9.com/"}) {
    EXPECT_FALSE(ParseHttpUrl(bad).ok()) << bad;
  }
}

TEST(UrlTest, ResolvesRedirectLocations) {
  Url base = *ParseHttpUrl("https://example.com/docs/page?x=1");
  EXPECT_EQ(ResolveLocation(base, "https://other.org/z")->ToString(), "https://other.org/z");
  EXPECT_EQ(ResolveLocation(base, "//cdn.example.com/a")->ToString(), "https://cdn.example.com/a");
  EXPECT_EQ(ResolveLocation(base, "/root")->ToString(), "https://example.com/root");
  EXPECT_EQ(ResolveLocation(base, "next")->ToString(), "https://example.com/docs/next");
  EXPECT_EQ(ResolveLocation(base, "/login?next=https://evil.com/")->ToString(),
            "https://example.com/login?next=https://evil.com/");
  EXPECT_FALSE(ResolveLocation(base, "javascript:alert(1)").ok());
}

TEST(UrlTest, MatchesHostsPatternsAndPorts) {
  auto url = [](const char* s) { return *ParseHttpUrl(s); };
  std::vector<std::string> allowed = {"api.example.com", "*.docs.org", "127.0.0.1:8080", "[::1]"};
  EXPECT_TRUE(HostAllowed(url("https://api.example.com/v1"), allowed));
  EXPECT_TRUE(HostAllowed(url("https://API.example.com:444/v1"), allowed));
  EXPECT_FALSE(HostAllowed(url("https://example.com/"), allowed));
  EXPECT_FALSE(HostAllowed(url("https://api.example.com.evil.net/"), allowed));
  EXPECT_TRUE(HostAllowed(url("https://a.b.docs.org/"), allowed));
  EXPECT_FALSE(HostAllowed(url("https://docs.org/"), allowed));
  EXPECT_FALSE(HostAllowed(url("https://evildocs.org/"), allowed));
  EXPECT_TRUE(HostAllowed(url("http://127.0.0.1:8080/"), allowed));
  EXPECT_FALSE(HostAllowed(url("http://127.0.0.1:8081/"), allowed));
  EXPECT_TRUE(HostAllowed(url("http://[::1]:1234/"), allowed));
  EXPECT_FALSE(HostAllowed(url("http://api.example.com/"), {}));
}

}  // namespace
}  // namespace keel::tools::internal
