// Connection handling for cpp-httplib's Server: thread per connection with a cap, whole-request
// deadlines, pipelining, two-step shutdown (layer: host/serve).
#include "host/serve/guarded_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "host/serve/openai_request.h"

namespace vkg::serve {

struct GuardedServer::Connection {
  explicit Connection(int fd, const ConnectionLimits& limits) : stream(fd, limits) {}
  ConnectionStream stream;
  bool in_handler = false;  // guarded by GuardedServer::mu_
  bool close_after = false;
  GuardedServer* server = nullptr;
};

namespace {
// The connection this thread serves (one thread per connection).
thread_local GuardedServer::Connection* current = nullptr;
}  // namespace

GuardedServer::GuardedServer(size_t max_connections, const ConnectionLimits& limits)
    : max_connections_(max_connections), limits_(limits) {
  // A few threads over the cap, so the connections past it are answered (RefuseBusy), not dropped.
  new_task_queue = [max = max_connections + 16] { return new ConnectionThreads(max); };
}

void GuardedServer::EnterHandler() {
  if (!current) return;
  std::lock_guard lock(current->server->mu_);
  current->in_handler = true;
}

void GuardedServer::CloseAfterReply() {
  if (current) current->close_after = true;
}

bool GuardedServer::WillClose() { return current && (current->close_after || current->server->stopping_.load()); }

void GuardedServer::BeginShutdown() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  for (Connection* c : open_) {
    if (!c->in_handler) c->stream.Abort();
  }
}

void GuardedServer::CloseAll() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  for (Connection* c : open_) c->stream.Abort();
}

size_t GuardedServer::open_connections() const {
  std::lock_guard lock(mu_);
  return open_.size();
}

void GuardedServer::RefuseBusy(int fd, bool stopping) {
  const std::string body = ErrorBody(
      stopping ? ApiError(503, "the server is shutting down", "server_error", "shutting_down")
               : ApiError(503, "too many open connections; retry later", "server_error", "too_many_connections"));
  const std::string reply =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: "
      "close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || admitted_ >= max_connections_) {
      RefuseBusy(sock, stopping_);
      return false;
    }
    ++admitted_;
  }
  Connection connection(sock, limits_);  // (closes the descriptor when it goes)
  connection.server = this;
  {
    std::lock_guard lock(mu_);
    open_.insert(&connection);
  }
  current = &connection;
  std::string remote_addr, local_addr;
  int remote_port = 0, local_port = 0;
  httplib::detail::get_remote_ip_and_port(sock, remote_addr, remote_port);
  httplib::detail::get_local_ip_and_port(sock, local_addr, local_port);
  ConnectionStream& stream = connection.stream;
  // The first request must start within the request timeout; the next ones (keep-alive) within
  // the idle timeout.
  std::chrono::milliseconds wait = limits_.request_timeout;
  for (size_t served = 0; served < keep_alive_max_count_ && !stopping_; ++served) {
    if (!stream.WaitForRequest(wait) || stopping_) break;
    wait = limits_.idle_timeout;
    stream.BeginRequest();
    const bool last = served + 1 == keep_alive_max_count_;
    bool closed = false;
    const bool ok = process_request(stream, remote_addr, remote_port, local_addr, local_port, last, closed,
                                    [&](httplib::Request&) { stream.HeadDone(); });
    stream.EndRequest();
    {
      std::lock_guard lock(mu_);
      connection.in_handler = false;
    }
    if (!ok || closed || connection.close_after || stream.failed()) break;
  }
  current = nullptr;
  {
    std::lock_guard lock(mu_);
    open_.erase(&connection);
    --admitted_;
  }
  return true;
}

bool ConnectionThreads::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (running_ >= max_) return false;
    ++running_;
  }
  std::thread([this, fn = std::move(fn)] {
    fn();
    std::lock_guard lock(mu_);
    --running_;
    cv_.notify_all();
  }).detach();
  return true;
}

void ConnectionThreads::shutdown() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return running_ == 0; });
}

}  // namespace vkg::serve
