// Whether a request's client still holds its TCP connection, asked from the handler thread
// (layer: host/serve). A handler waiting for a non-streamed reply writes nothing until the end, so
// without asking it would never notice a client that left, and its sequence would decode to
// max_tokens holding a slot. Debian 12's cpp-httplib (0.11.4) gives a handler neither its socket
// nor Request::is_connection_closed (0.13+), so the probe finds the socket among the process's open
// descriptors by the request's endpoints (local port, peer address and port: one TCP connection),
// once, and then peeks at it. The descriptor stays that connection's while the handler runs:
// httplib closes it only after the handler has returned.
#pragma once
#include <string>

namespace vkg::serve {

class ConnectionProbe {
 public:
  // The endpoints as httplib's Request reports them (local_port, remote_addr, remote_port).
  ConnectionProbe(int local_port, const std::string& peer_addr, int peer_port);

  bool found() const { return fd_ >= 0; }
  // True once the peer has closed the connection (end of stream or a socket error). As in newer
  // httplib's is_connection_closed, a client that only shut down its sending side reads as gone;
  // data waiting (a pipelined request) reads as open, unless the end of stream follows it (seen
  // on Linux, POLLRDHUP; elsewhere only once the data is read). A probe that found no socket says
  // false.
  bool Closed() const;

 private:
  int fd_ = -1;
};

}  // namespace vkg::serve
