// The checks and error bodies around every route (layer: host/serve).
#include "host/serve/http_guards.h"

#include <string>

#include "host/serve/guarded_server.h"

namespace vkg::serve {
namespace {

// Before the body is read: the head's checks (request_policy.h). A refused request's body stays
// unread, so its connection closes after the reply.
httplib::Server::HandlerResponse PreRoute(const RequestPolicy& policy, const httplib::Request& req,
                                          httplib::Response& res) {
  RequestHead head;
  head.method = req.method;
  head.path = req.path;
  for (const auto& [k, v] : req.headers) {
    // httplib adds these itself; they are not the client's.
    if (k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" || k == "LOCAL_PORT") continue;
    head.headers.emplace_back(k, v);
  }
  const PolicyVerdict v = CheckRequestHead(head, policy);
  if (!v.allow_origin.empty()) {
    res.set_header("Access-Control-Allow-Origin", v.allow_origin);
    res.set_header("Vary", "Origin");
  }
  if (v.error) {
    GuardedServer::CloseAfterReply();
    SetError(res, *v.error);
    return httplib::Server::HandlerResponse::Handled;
  }
  if (v.preflight) {
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    return httplib::Server::HandlerResponse::Handled;
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

}  // namespace

void SetError(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(ErrorBody(e), "application/json");
}

void InstallRequestGuards(httplib::Server& server, const RequestPolicy& policy, size_t max_body_bytes) {
  server.set_pre_routing_handler([policy](const httplib::Request& req, httplib::Response& res) {
    try {
      return PreRoute(policy, req, res);
    } catch (...) {
      GuardedServer::CloseAfterReply();
      res.status = 500;
      return httplib::Server::HandlerResponse::Handled;
    }
  });
  // Just before the status line: the connection closes after a refused request or while
  // shutting down, and says so.
  server.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (GuardedServer::WillClose()) {
      res.headers.erase("Keep-Alive");
      res.set_header("Connection", "close");
    }
  });
  // Errors httplib answers itself (404, 413 for a body over the limit, 400 for a bad request
  // line or headers, 414) get an OpenAI-style body too. httplib calls it outside its try/catch:
  // nothing may throw out of it (JsonText replaces the invalid UTF-8 a decoded path may hold).
  server.set_error_handler([max_body_bytes](const httplib::Request& req, httplib::Response& res) {
    try {
      if (!res.body.empty()) return;
      std::string message = "HTTP " + std::to_string(res.status), code = "http_error";
      if (res.status == 400) message = "malformed request line or headers", code = "bad_request";
      if (res.status == 404) message = "no route for " + req.method + " " + req.path, code = "not_found";
      if (res.status == 413) {
        message =
            "the request body is over the size limit of " + std::to_string(max_body_bytes) + " bytes (--max-body)";
        code = "payload_too_large";
      }
      if (res.status == 414) message = "the request target is too long", code = "uri_too_long";
      if (res.status >= 400 && res.status != 404) GuardedServer::CloseAfterReply();
      res.set_content(ErrorBody(ApiError(res.status, message, "invalid_request_error", code)), "application/json");
    } catch (...) {
      res.set_content(
          R"({"error":{"message":"internal error","type":"server_error","param":null,"code":"internal_error"}})",
          "application/json");
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SetError(res, ApiError(500, what, "server_error", "internal_error"));
  });
  server.set_payload_max_length(max_body_bytes);
}

}  // namespace vkg::serve
