// ConnectionProbe on a real loopback connection: it finds the accepted socket by the endpoints
// httplib reports (and not the listening or the client socket of this same process), reads an open
// connection as open (data waiting too) and a closed one as closed (data still unread too).
#include "host/serve/connection_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vkg::serve {
namespace {

int PortOf(int fd, bool peer) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  (peer ? ::getpeername : ::getsockname)(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A listening socket, a client connected to it and the server's end of that connection.
struct Connection {
  int listener = -1, client = -1, server = -1;
  Connection() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener, 1) != 0) return;
    a.sin_port = htons(uint16_t(PortOf(listener, false)));
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    server = ::accept(listener, nullptr, nullptr);
  }
  ~Connection() {
    for (int fd : {listener, client, server}) {
      if (fd >= 0) ::close(fd);
    }
  }
  // What httplib's Request says of the server's end.
  ConnectionProbe Probe() const { return ConnectionProbe(PortOf(server, false), "127.0.0.1", PortOf(server, true)); }
};

TEST(ConnectionProbe, SeesTheClientLeave) {
  Connection c;
  ASSERT_GE(c.server, 0);
  const ConnectionProbe probe = c.Probe();
  ASSERT_TRUE(probe.found());
  EXPECT_FALSE(probe.Closed());
  // A pipelined request waiting to be read is a client still there.
  ASSERT_EQ(::send(c.client, "GET", 3, MSG_NOSIGNAL), 3);
  EXPECT_FALSE(probe.Closed());
  // Gone, though what it sent is still unread (Linux tells by POLLRDHUP).
  ::close(c.client);
  c.client = -1;
  EXPECT_TRUE(probe.Closed());
}

TEST(ConnectionProbe, FindsNoSocketForOtherEndpoints) {
  Connection c;
  ASSERT_GE(c.server, 0);
  const ConnectionProbe other_port(PortOf(c.server, false), "127.0.0.1", 0);
  EXPECT_FALSE(other_port.found());
  EXPECT_FALSE(other_port.Closed());  // unknown: treated as open
  const ConnectionProbe other_host(PortOf(c.server, false), "127.0.0.2", PortOf(c.server, true));
  EXPECT_FALSE(other_host.found());
}

}  // namespace
}  // namespace vkg::serve
