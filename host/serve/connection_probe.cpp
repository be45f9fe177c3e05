// Finding a request's socket among the open descriptors, and peeking at it (layer: host/serve).
#include "host/serve/connection_probe.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

namespace vkg::serve {
namespace {

int Port(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// The address as httplib writes Request::remote_addr (getnameinfo, numeric).
std::string NumericHost(const sockaddr_storage& a, socklen_t len) {
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) {
    return "";
  }
  return host;
}

bool IsConnection(int fd, int local_port, const std::string& peer_addr, int peer_port) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_storage local{}, peer{};
  socklen_t local_len = sizeof local, peer_len = sizeof peer;
  // The listening socket has no peer; a client socket of this same process (in-process tests)
  // has the two ports the other way round.
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 || Port(local) != local_port)
    return false;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 || Port(peer) != peer_port) return false;
  return NumericHost(peer, peer_len) == peer_addr;
}

}  // namespace

ConnectionProbe::ConnectionProbe(int local_port, const std::string& peer_addr, int peer_port) {
  // /dev/fd lists this process's descriptors on Linux (a link to /proc/self/fd) and macOS.
  DIR* dir = ::opendir("/dev/fd");
  if (!dir) return;
  const int own = ::dirfd(dir);
  while (const dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == own) continue;
    if (IsConnection(int(fd), local_port, peer_addr, peer_port)) {
      fd_ = int(fd);
      break;
    }
  }
  ::closedir(dir);
}

bool ConnectionProbe::Closed() const {
  if (fd_ < 0) return false;
#ifdef POLLRDHUP
  // Linux: the peer's end of stream shows even behind bytes not read yet (a pipelined request).
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
#else
  pollfd p{fd_, POLLIN, 0};
#endif
  if (::poll(&p, 1, 0) <= 0) return false;  // nothing to read and no hang-up: still there
  if (p.revents & (POLLERR | POLLNVAL | POLLHUP)) return true;
#ifdef POLLRDHUP
  if (p.revents & POLLRDHUP) return true;
#endif
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return false;  // the client sent more (a pipelined request): still there
  if (n == 0) return true;  // end of stream: the client closed
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace vkg::serve
