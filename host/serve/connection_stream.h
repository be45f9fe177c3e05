// One client connection as cpp-httplib's Stream (layer: host/serve), with what httplib's own
// SocketStream lacks for a server facing hostile clients:
// - a deadline for receiving a whole request (request line, headers and body), counted from its
//   first byte, not per read: a client trickling a byte a second cannot hold the connection longer;
//   past it the client gets 408 and the connection is closed;
// - a limit on the request head's total size (httplib limits each header line to 8 KiB and their
//   count to 100): past it, 431;
// - one read buffer for the connection's whole life, so pipelined requests (sent before the
//   previous answer) are answered in order: httplib makes a new stream, and drops what the old one
//   had buffered, for each request.
// Writes wait at most `write_timeout` for room. After Fail() (or a shutdown of the socket from
// another thread) every read and write fails, which ends httplib's request processing at once.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "host/serve/connection_limits.h"

namespace vkg::serve {

class ConnectionStream final : public httplib::Stream {
 public:
  // Takes `fd` (closes it when destroyed).
  ConnectionStream(int fd, const ConnectionLimits& limits);
  ~ConnectionStream() override;
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;

  // Waits up to `idle` for the next request's first byte (true at once when a pipelined one is
  // already buffered); false when the client closed, the wait ran out, or the socket was shut down.
  bool WaitForRequest(std::chrono::milliseconds idle);
  // A request starts (its deadline and head count); its head has been read.
  void BeginRequest();
  void HeadDone() { in_head_ = false; }
  void EndRequest() { in_request_ = in_head_ = false; }
  // Answers `status` with an OpenAI-style error body and Connection: close, written directly
  // (httplib's own reply, if any, is dropped), and fails every read and write after.
  void Fail(int status, const std::string& message, const std::string& code);
  bool failed() const { return failed_; }
  // Shuts the socket down from another thread: a blocked read or write returns at once.
  void Abort();

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

 private:
  using Clock = std::chrono::steady_clock;
  // Milliseconds left of the request's deadline (the write timeout outside a request); 0: none left.
  int RemainingMs() const;
  bool PollFor(short events, int timeout_ms) const;
  void TimedOut();  // Fail(408)

  int fd_;
  ConnectionLimits limits_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes: buffer_[begin_, end_)
  bool in_request_ = false, in_head_ = false;
  size_t head_bytes_ = 0;
  Clock::time_point deadline_;
  std::atomic<bool> failed_{false};
};

}  // namespace vkg::serve
