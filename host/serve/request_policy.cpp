// The checks of a request's head (layer: host/serve).
#include "host/serve/request_policy.h"

#include <algorithm>
#include <cctype>

namespace vkg::serve {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> Values(const RequestHead& head, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : head.headers) {
    if (Lower(k) == name) out.emplace_back(Trim(v));
  }
  return out;
}

ApiError Refuse(int status, std::string message, std::string code) {
  return ApiError(status, std::move(message), status == 401 ? "authentication_error" : "invalid_request_error",
                  std::move(code));
}

// "host", "host:port", "[v6]", "[v6]:port" -> the host, lower case, without brackets; empty when malformed.
std::string HostPart(std::string_view authority) {
  authority = Trim(authority);
  if (authority.empty()) return "";
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return "";
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "";
    return Lower(authority.substr(1, close - 1));
  }
  const size_t colon = authority.find(':');
  if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) return "";
  return Lower(authority.substr(0, colon));
}

bool IsIpLiteral(const std::string& host) {
  if (host.find(':') != std::string::npos) return true;  // (brackets removed: only v6 has colons)
  return !host.empty() &&
         std::all_of(host.begin(), host.end(), [](char c) { return std::isdigit(uint8_t(c)) || c == '.'; });
}

bool HostAllowed(const std::string& host, const RequestPolicy& policy) {
  if (host.empty()) return false;
  if (host == "localhost" || host == "127.0.0.1" || host == "::1") return true;
  for (const std::string& h : policy.allowed_hosts) {
    if (h == "*" || Lower(h) == host) return true;
  }
  const std::string bound = HostPart(policy.bound_host);
  if (bound == host) return true;
  // Listening on every address: reached by any of them. A DNS name must still be allowed by name,
  // which is what stops DNS rebinding (a page's own name resolving to this machine).
  if ((bound == "0.0.0.0" || bound == "::" || bound.empty()) && IsIpLiteral(host)) return true;
  return false;
}

// "scheme://authority" of an Origin header; empty when it is not one (e.g. "null").
std::string OriginAuthority(std::string_view origin) {
  const size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return "";
  std::string_view rest = origin.substr(sep + 3);
  if (rest.empty() || rest.find('/') != std::string_view::npos) return "";
  return Lower(rest);
}

}  // namespace

bool KeyMatches(std::string_view given, std::string_view key) {
  // Every byte of the longer is visited whatever the contents; only the lengths' difference shows.
  const size_t n = std::max(given.size(), key.size());
  unsigned diff = given.size() == key.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < key.size() ? static_cast<unsigned char>(key[i]) : 0;
    diff |= unsigned(a ^ b);
  }
  return diff == 0;
}

PolicyVerdict CheckRequestHead(const RequestHead& head, const RequestPolicy& policy) {
  PolicyVerdict v;
  // Framing: one body length, stated one way (RFC 9112 6.3: two differing lengths, or a length
  // beside a transfer coding, are how requests are smuggled past proxies).
  const std::vector<std::string> lengths = Values(head, "content-length");
  for (const std::string& l : lengths) {
    if (l.empty() || !std::all_of(l.begin(), l.end(), [](char c) { return std::isdigit(uint8_t(c)); }) ||
        l != lengths.front()) {
      v.error = Refuse(400, "conflicting or malformed Content-Length headers", "bad_framing");
      return v;
    }
  }
  const std::vector<std::string> codings = Values(head, "transfer-encoding");
  if (!codings.empty()) {
    if (!lengths.empty()) {
      v.error = Refuse(400, "a request may not have both Content-Length and Transfer-Encoding", "bad_framing");
      return v;
    }
    if (codings.size() != 1 || Lower(codings.front()) != "chunked") {
      v.error = Refuse(400, "the only Transfer-Encoding accepted is chunked", "bad_framing");
      return v;
    }
  }
  // Host: this server's (DNS rebinding: a foreign page whose name now resolves to 127.0.0.1 still
  // sends its own name).
  const std::vector<std::string> hosts = Values(head, "host");
  if (hosts.size() != 1) {
    v.error = Refuse(400, hosts.empty() ? "the Host header is required" : "more than one Host header", "bad_host");
    return v;
  }
  const std::string host = HostPart(hosts.front());
  if (!HostAllowed(host, policy)) {
    v.error = Refuse(
        403,
        "the Host header names '" + hosts.front() + "', which is not this server; allow the name with --allowed-hosts",
        "host_not_allowed");
    return v;
  }
  // Origin: a browser's cross-origin request, refused unless --cors-origin allows it.
  const std::vector<std::string> origins = Values(head, "origin");
  if (!origins.empty()) {
    const std::string& origin = origins.front();
    const bool same = origins.size() == 1 && OriginAuthority(origin) == Lower(Trim(hosts.front()));
    const bool allowed = origins.size() == 1 && !policy.cors_origin.empty() &&
                         (policy.cors_origin == "*" || Lower(policy.cors_origin) == Lower(origin));
    if (!same && !allowed) {
      v.error = Refuse(403, "cross-origin requests are refused (Origin '" + origin + "'); allow one with --cors-origin",
                       "origin_not_allowed");
      return v;
    }
    if (allowed) v.allow_origin = policy.cors_origin == "*" ? "*" : origin;
    if (head.method == "OPTIONS") {
      v.preflight = true;
      return v;
    }
  }
  // POST bodies are JSON: a cross-site form or text/plain POST (which a browser sends without a
  // preflight) is refused before it is read.
  if (head.method == "POST") {
    const std::vector<std::string> types = Values(head, "content-type");
    std::string media =
        types.size() == 1 ? Lower(Trim(std::string_view(types.front()).substr(0, types.front().find(';')))) : "";
    if (media != "application/json") {
      v.error = Refuse(415,
                       "the request body must be JSON with Content-Type: application/json, got " +
                           (types.empty() ? std::string("none") : "'" + types.front() + "'"),
                       "unsupported_media_type");
      return v;
    }
  }
  // The API key (before any work): /v1/* and /metrics; / (the page) and /health stay open.
  const bool keyed = head.path.rfind("/v1/", 0) == 0 || head.path == "/metrics";
  if (!policy.api_key.empty() && keyed) {
    const std::vector<std::string> auth = Values(head, "authorization");
    const std::string_view given = auth.size() == 1 ? std::string_view(auth.front()) : std::string_view();
    const bool ok =
        given.size() > 7 && Lower(given.substr(0, 7)) == "bearer " && KeyMatches(Trim(given.substr(7)), policy.api_key);
    if (!ok) {
      // Never the key, nor what was sent: a log of errors must not hold secrets.
      v.error =
          Refuse(401, auth.empty() ? "an API key is required: Authorization: Bearer <key>" : "the API key is not valid",
                 "invalid_api_key");
      return v;
    }
  }
  return v;
}

}  // namespace vkg::serve
