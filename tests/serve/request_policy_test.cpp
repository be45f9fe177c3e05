// The head checks alone (no sockets): framing, Host, Origin, Content-Type, the key.
#include <gtest/gtest.h>

#include "host/serve/request_policy.h"

namespace vkg::serve {
namespace {

RequestHead Head(std::string method, std::string path, std::vector<std::pair<std::string, std::string>> headers) {
  return RequestHead{std::move(method), std::move(path), std::move(headers)};
}

// The error code of a verdict ("" when the request goes on).
std::string CodeOf(const RequestHead& h, const RequestPolicy& p = {}) {
  const PolicyVerdict v = CheckRequestHead(h, p);
  return v.error ? std::to_string(v.error->status) + " " + v.error->code : "";
}

TEST(RequestPolicy, Framing) {
  const auto json = std::pair<std::string, std::string>{"Content-Type", "application/json"};
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions", {{"Host", "localhost"}, json, {"Content-Length", "2"}})), "");
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions",
                        {{"Host", "localhost"}, json, {"Content-Length", "2"}, {"content-length", "2"}})),
            "");  // the same length twice is one length
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions",
                        {{"Host", "localhost"}, json, {"Content-Length", "2"}, {"content-length", "20"}})),
            "400 bad_framing");
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions", {{"Host", "localhost"}, json, {"Content-Length", "-1"}})),
            "400 bad_framing");
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions",
                        {{"Host", "localhost"}, json, {"Content-Length", "2"}, {"Transfer-Encoding", "chunked"}})),
            "400 bad_framing");
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions", {{"Host", "localhost"}, json, {"Transfer-Encoding", "gzip"}})),
            "400 bad_framing");
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions", {{"Host", "localhost"}, json, {"Transfer-Encoding", "Chunked"}})),
            "");
}

TEST(RequestPolicy, HostMustNameThisServer) {
  for (const char* ok : {"localhost", "localhost:8080", "127.0.0.1:1", "[::1]:8080", "LOCALHOST"})
    EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", ok}})), "") << ok;
  for (const char* bad : {"evil.example", "evil.example:8080", "127.0.0.1.evil.example", "[::1", "a:b:c", ""})
    EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", bad}})), "403 host_not_allowed") << bad;
  EXPECT_EQ(CodeOf(Head("GET", "/health", {})), "400 bad_host");
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "localhost"}, {"Host", "evil.example"}})), "400 bad_host");
  RequestPolicy p;
  p.bound_host = "192.168.1.5";
  p.allowed_hosts = {"gpu-box.lan"};
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "192.168.1.5:8080"}}), p), "");
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "gpu-box.lan"}}), p), "");
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "10.0.0.1"}}), p), "403 host_not_allowed");
  p.bound_host = "0.0.0.0";  // every address: any address literal, names only when allowed
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "10.0.0.1:8080"}}), p), "");
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "[fe80::1]:8080"}}), p), "");
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "rebound.example"}}), p), "403 host_not_allowed");
  p.allowed_hosts = {"*"};
  EXPECT_EQ(CodeOf(Head("GET", "/health", {{"Host", "rebound.example"}}), p), "");
}

TEST(RequestPolicy, OriginsAndPreflight) {
  const std::pair<std::string, std::string> host{"Host", "127.0.0.1:8080"};
  EXPECT_EQ(CodeOf(Head("GET", "/v1/models", {host, {"Origin", "http://127.0.0.1:8080"}})), "");
  EXPECT_EQ(CodeOf(Head("GET", "/v1/models", {host, {"Origin", "http://127.0.0.1:9090"}})), "403 origin_not_allowed");
  EXPECT_EQ(CodeOf(Head("GET", "/v1/models", {host, {"Origin", "null"}})), "403 origin_not_allowed");
  RequestPolicy p;
  p.cors_origin = "https://app.example";
  const PolicyVerdict pre =
      CheckRequestHead(Head("OPTIONS", "/v1/completions", {host, {"Origin", "https://app.example"}}), p);
  EXPECT_FALSE(pre.error);
  EXPECT_TRUE(pre.preflight);
  EXPECT_EQ(pre.allow_origin, "https://app.example");
  EXPECT_EQ(CodeOf(Head("OPTIONS", "/v1/completions", {host, {"Origin", "https://other.example"}}), p),
            "403 origin_not_allowed");
  p.cors_origin = "*";
  EXPECT_EQ(CheckRequestHead(Head("GET", "/v1/models", {host, {"Origin", "https://x.example"}}), p).allow_origin, "*");
}

TEST(RequestPolicy, PostsAreJsonAndTheKeyIsChecked) {
  const std::pair<std::string, std::string> host{"Host", "localhost"};
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions", {host, {"Content-Type", "application/json; charset=utf-8"}})), "");
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions", {host, {"Content-Type", "text/plain"}})),
            "415 unsupported_media_type");
  EXPECT_EQ(CodeOf(Head("POST", "/v1/completions", {host})), "415 unsupported_media_type");
  RequestPolicy p;
  p.api_key = "s3cret";
  EXPECT_EQ(CodeOf(Head("GET", "/v1/models", {host}), p), "401 invalid_api_key");
  EXPECT_EQ(CodeOf(Head("GET", "/metrics", {host, {"Authorization", "Bearer s3cre"}}), p), "401 invalid_api_key");
  EXPECT_EQ(CodeOf(Head("GET", "/metrics", {host, {"Authorization", "bearer s3cret"}}), p), "");
  EXPECT_EQ(CodeOf(Head("GET", "/health", {host}), p), "");
  EXPECT_EQ(CodeOf(Head("GET", "/", {host}), p), "");
  const PolicyVerdict v = CheckRequestHead(Head("GET", "/v1/models", {host, {"Authorization", "Bearer s3cretX"}}), p);
  ASSERT_TRUE(v.error);
  EXPECT_EQ(std::string(v.error->what()).find("s3cret"), std::string::npos);
  EXPECT_TRUE(KeyMatches("abc", "abc"));
  EXPECT_FALSE(KeyMatches("abd", "abc"));
  EXPECT_FALSE(KeyMatches("ab", "abc"));
  EXPECT_FALSE(KeyMatches("abcd", "abc"));
  EXPECT_FALSE(KeyMatches("", "abc"));
}

}  // namespace
}  // namespace vkg::serve
