// keeld over TLS (a certificate and key given): a client that trusts the CA and sends a
// valid token is served; a plaintext client is not; tokens are still checked; bad TLS
// options are clear errors. Certificates: tests/engine/server/testdata (README.md).
#include <gtest/gtest.h>

#include <fstream>

#include "engine/grpc_frontend.h"
#include "tests/engine/server/server_fixture.h"

namespace keel::testing {
namespace {

const std::string kData = std::string(KEEL_SOURCE_DIR) + "/tests/engine/server/testdata/";
const std::string kToken = "tls-client-token-0123456789";

class TlsTest : public ServerFixture {
 protected:
  void SetUp() override {
    std::string tokens = dir_.File("tokens");
    std::ofstream(tokens) << kToken << " alice client\n";
    server::ServerOptions o;
    o.tokens_file = tokens;
    o.tls_cert_file = kData + "server.pem";
    o.tls_key_file = kData + "server.key";
    StartServer(o);
  }
  Result<v1::ListWorkflowExecutionsResponse> List(const std::string& ca_file,
                                                  const std::string& token) {
    ConnectOptions co;
    co.address = server_->address();
    co.tls_ca_file = ca_file;
    co.token = token;
    co.call_timeout = std::chrono::seconds(10);
    auto f = ConnectToServer(co);
    if (!f.ok()) return f.status();
    return (*f)->ListWorkflowExecutions(v1::ListWorkflowExecutionsRequest());
  }
};

TEST_F(TlsTest, AClientThatTrustsTheCaIsServed) {
  auto listed = List(kData + "ca.pem", kToken);
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
}

TEST_F(TlsTest, TokensAreStillChecked) {
  EXPECT_EQ(List(kData + "ca.pem", "").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(List(kData + "ca.pem", "wrong-token-0123456789").status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(TlsTest, APlaintextClientIsNotServed) {
  EXPECT_EQ(List("", kToken).status().code(), StatusCode::kUnavailable);
}

TEST_F(TlsTest, AClientThatDoesNotTrustTheCertificateIsNotServed) {
  EXPECT_EQ(List(kData + "other-ca.pem", kToken).status().code(), StatusCode::kUnavailable);
}

TEST(TlsOptionsTest, BadTlsOptionsAreClearErrors) {
  TempDir dir;
  server::ServerOptions o;
  o.engine.db_path = dir.File("keel.db");
  o.listen = "127.0.0.1:0";
  o.tls_cert_file = kData + "server.pem";
  auto no_key = server::Server::Start(o);
  EXPECT_EQ(no_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_key.status().message().find("--tls-cert and --tls-key go together"),
            std::string::npos);
  o.tls_key_file = dir.File("missing.key");
  auto missing = server::Server::Start(o);
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("missing.key"), std::string::npos)
      << missing.status().message();
  o.tls_key_file = kData + "server.pem";  // a certificate where the key should be
  auto not_a_key = server::Server::Start(o);
  EXPECT_EQ(not_a_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_a_key.status().message().find("holds no PEM private key"), std::string::npos)
      << not_a_key.status().message();
  o.tls_cert_file = kData + "README.md";
  o.tls_key_file = kData + "server.key";
  auto not_a_cert = server::Server::Start(o);
  EXPECT_EQ(not_a_cert.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_a_cert.status().message().find("holds no PEM certificate"), std::string::npos)
      << not_a_cert.status().message();
}

}  // namespace
}  // namespace keel::testing
