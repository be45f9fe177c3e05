// cpp-httplib's Server with its connection handling replaced (layer: host/serve): httplib parses
// requests and writes responses; this class owns each connection's life.
// - One thread per connection (ConnectionThreads), so connections trickling a request cannot
//   starve the others as they starve a fixed thread pool; instead at most `max_connections` are
//   open at once, and the next is answered 503 and closed at once.
// - Each connection is a ConnectionStream: a whole-request deadline, a head-size limit, pipelined
//   requests answered in order.
// - Shutdown in two steps: BeginShutdown() closes the connections that are idle or still sending
//   a request, and lets those whose handler runs (streams) finish; CloseAll() ends those too.
// A handler calls EnterHandler() first (the request is then fully received), and may ask for the
// connection to be closed after its reply (CloseAfterReply: a request refused before its body was
// read leaves that body unread on the connection).
#pragma once
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>

#include "host/serve/connection_stream.h"

namespace vkg::serve {

class GuardedServer : public httplib::Server {
 public:
  GuardedServer(size_t max_connections, const ConnectionLimits& limits);

  // Called by the request's own thread (handlers, pre/post-routing handlers).
  static void EnterHandler();
  static void CloseAfterReply();
  static bool WillClose();  // the reply closes the connection (asked, or shutting down)

  void BeginShutdown();
  void CloseAll();
  size_t open_connections() const;

  struct Connection;  // (guarded_server.cpp)

 private:
  bool process_and_close_socket(socket_t sock) override;
  // The reply to a connection over the cap, written and closed at once.
  static void RefuseBusy(int fd, bool stopping);

  size_t max_connections_;
  ConnectionLimits limits_;
  mutable std::mutex mu_;
  std::set<Connection*> open_;
  size_t admitted_ = 0;  // open_, and those about to join it
  std::atomic<bool> stopping_{false};
};

// httplib's TaskQueue: a thread per task (a connection), at most `max` at once; enqueue() past it
// returns false, and httplib closes the connection.
class ConnectionThreads final : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max) : max_(max) {}
  bool enqueue(std::function<void()> fn) override;
  void shutdown() override;  // waits for every thread to end

 private:
  size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t running_ = 0;
};

}  // namespace vkg::serve
