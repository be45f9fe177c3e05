// A client connection with a whole-request deadline, a head-size limit and a persistent read
// buffer (layer: host/serve).
#include "host/serve/connection_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "host/serve/openai_request.h"

namespace vkg::serve {

ConnectionStream::ConnectionStream(int fd, const ConnectionLimits& limits)
    : fd_(fd), limits_(limits), buffer_(16 << 10) {}

ConnectionStream::~ConnectionStream() {
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
}

void ConnectionStream::Abort() { ::shutdown(fd_, SHUT_RDWR); }

bool ConnectionStream::PollFor(short events, int timeout_ms) const {
  pollfd p{fd_, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

bool ConnectionStream::WaitForRequest(std::chrono::milliseconds idle) {
  if (failed_) return false;
  if (begin_ < end_) return true;
  if (!PollFor(POLLIN, int(idle.count()))) return false;
  // Readable: data, or the end of the stream (which the first read reports).
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0;
}

void ConnectionStream::BeginRequest() {
  in_request_ = in_head_ = true;
  head_bytes_ = 0;
  deadline_ = Clock::now() + limits_.request_timeout;
}

int ConnectionStream::RemainingMs() const {
  if (!in_request_) return int(limits_.write_timeout.count());
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
  return left > 0 ? int(std::min<int64_t>(left, 1 << 30)) : 0;
}

void ConnectionStream::Fail(int status, const std::string& message, const std::string& code) {
  if (failed_.exchange(true)) return;
  const char* reason = status == 408 ? "Request Timeout" : status == 431 ? "Request Header Fields Too Large" : "Error";
  const std::string body = ErrorBody(ApiError(status, message, "invalid_request_error", code));
  const std::string reply =
      "HTTP/1.1 " + std::to_string(status) + " " + reason +
      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  // Best effort, without blocking: the client may not be reading at all.
  (void)::send(fd_, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd_, SHUT_RDWR);
}

void ConnectionStream::TimedOut() {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", double(limits_.request_timeout.count()) / 1000.0);
  Fail(408, std::string("the request was not received within ") + seconds + " s (--request-timeout)",
       "request_timeout");
}

bool ConnectionStream::is_readable() const {
  if (failed_) return false;
  return begin_ < end_ || PollFor(POLLIN, RemainingMs());
}

bool ConnectionStream::is_writable() const {
  if (failed_ || !PollFor(POLLOUT, int(limits_.write_timeout.count()))) return false;
  // Writable, but gone if the client closed its end (a pipelined request waiting reads as alive).
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (failed_) return -1;
  if (begin_ == end_) {
    if (in_request_ && RemainingMs() == 0) {
      TimedOut();
      return -1;
    }
    if (!PollFor(POLLIN, RemainingMs())) {
      if (in_request_ && RemainingMs() == 0) {
        TimedOut();
      }
      return -1;
    }
    ssize_t n;
    do {
      n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return n;
    begin_ = 0, end_ = size_t(n);
  }
  const size_t n = std::min(size, end_ - begin_);
  if (in_head_) {
    head_bytes_ += n;
    if (head_bytes_ > limits_.max_head_bytes) {
      Fail(431, "the request line and headers are over " + std::to_string(limits_.max_head_bytes) + " bytes",
           "headers_too_large");
      return -1;
    }
  }
  std::memcpy(ptr, buffer_.data() + begin_, n);
  begin_ += n;
  return ssize_t(n);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (failed_) return -1;
  if (!PollFor(POLLOUT, int(limits_.write_timeout.count()))) return -1;
  ssize_t n;
  do {
    n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  httplib::detail::get_remote_ip_and_port(fd_, ip, port);
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  httplib::detail::get_local_ip_and_port(fd_, ip, port);
}

}  // namespace vkg::serve
