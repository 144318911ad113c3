// The client end of a test's connection to an in-process server on loopback, for the test clients
// that drive their sockets by hand (raw_http_client.h, client_transport.h): a non-blocking socket
// with TCP_NODELAY connected to 127.0.0.1, and a poll(2) that gives up at a deadline, so nothing
// hangs a test. Header-only test code.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

namespace meshgate::dp::testing {

// Waits until `fd` is ready for `events` (true), or `deadline` passed or poll failed (false).
inline bool pollUntil(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    pollfd p{.fd = fd, .events = events, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

// A non-blocking socket connected to 127.0.0.1:`port` by `deadline`; -1 with `error` set
// ("socket: …", "connect: Connection refused", "connect: timed out") when it is not.
inline int connectToLoopback(uint16_t port, std::chrono::steady_clock::time_point deadline,
                             std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket: " + std::string(std::strerror(errno));
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    int failure = errno;
    if (failure == EINPROGRESS) {
      if (!pollUntil(fd, POLLOUT, deadline)) {
        error = "connect: timed out";
        ::close(fd);
        return -1;
      }
      socklen_t length = sizeof failure;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length);
    }
    if (failure != 0) {
      error = "connect: " + std::string(std::strerror(failure));
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace meshgate::dp::testing
