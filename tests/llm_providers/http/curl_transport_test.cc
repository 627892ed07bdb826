// The libcurl transport against a FakeServer on loopback: a stalled request is cancelled
// through Request::cancelled, no "Expect: 100-continue" is sent with a body (curl adds it above 1 KiB), and a
// pooled handle carries no header into the next request.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/http.h"
#include "tests/llm_providers/fake_server.h"

namespace keel::http {
namespace {

using llm::testing::FakeServer;
using llm::testing::Reply;

TEST(CurlTransportTest, CancelledAbortsAStalledRequest) {
  FakeServer server;
  server.Push({.stall = true});
  auto transport = NewCurlTransport();
  // Cancelled once the server holds the request: nothing to wait for but the callback.
  Request request{.url = server.Url() + "/slow", .timeout = std::chrono::hours(1)};
  request.cancelled = [&] { return !server.Requests().empty(); };
  auto r = transport->Send(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  EXPECT_NE(r.status().message().find("cancelled"), std::string::npos);
}

TEST(CurlTransportTest, NeverCancelledRequestCompletes) {
  FakeServer server;
  server.Push({.status = 200, .body = "ok"});
  auto transport = NewCurlTransport();
  Request request{.url = server.Url() + "/x"};
  request.cancelled = [] { return false; };
  auto r = transport->Send(request);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "ok");
}

TEST(CurlTransportTest, BodiesAreSentWithoutExpectContinue) {
  FakeServer server;
  server.Push({.status = 200, .body = "{}"});
  auto transport = NewCurlTransport();
  Request request{.method = "POST",
                  .url = server.Url() + "/big",
                  .headers = {{"Content-Type", "application/json"}},
                  .body = std::string(64 << 10, 'x')};
  auto r = transport->Send(request);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(server.LastRequest().Header("expect"), "");
  EXPECT_EQ(server.LastRequest().body.size(), size_t{64 << 10});
}

TEST(CurlTransportTest, APooledHandleForgetsThePreviousHeaders) {
  FakeServer server;
  server.Push({.status = 200});
  server.Push({.status = 200});
  auto transport = NewCurlTransport();
  ASSERT_TRUE(transport->Send({.url = server.Url() + "/a", .headers = {{"Authorization", "Bearer s3cr3t"}}}).ok());
  ASSERT_TRUE(transport->Send({.url = server.Url() + "/b"}).ok());
  EXPECT_EQ(server.LastRequest().Header("authorization"), "");
}

}  // namespace
}  // namespace keel::http
