// Taking, giving back and pruning idle upstream connections.
#include "dataplane/proxy/upstream_pool.h"

#include <sys/socket.h>

namespace meshgate::dp {

namespace {
// True when the peer has not closed the connection and sent nothing: recv would block.
bool stillOpenAndQuiet(tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
}  // namespace

UpstreamConnectionPtr UpstreamPool::take(const std::string& key) {
  auto found = idle_.find(key);
  if (found == idle_.end()) return nullptr;
  auto& connections = found->second;
  while (!connections.empty()) {
    // Most recently used first: the warmest connection, and the least likely to have been
    // closed by the server's own idle timeout.
    UpstreamConnectionPtr candidate = std::move(connections.back());
    connections.pop_back();
    if (stillOpenAndQuiet(candidate->stream.socket())) return candidate;
  }
  return nullptr;
}

void UpstreamPool::give(const std::string& key, UpstreamConnectionPtr connection, uint32_t maxIdle,
                        std::chrono::milliseconds idleTimeout) {
  auto& connections = idle_[key];
  if (connections.size() >= maxIdle) return;  // closed by the destructor
  connection->idleUntil = std::chrono::steady_clock::now() + idleTimeout;
  connections.push_back(std::move(connection));
}

void UpstreamPool::prune() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& connections = it->second;
    while (!connections.empty() && connections.front()->idleUntil < now)
      connections.pop_front();
    it = connections.empty() ? idle_.erase(it) : std::next(it);
  }
}

size_t UpstreamPool::idleCount() const {
  size_t count = 0;
  for (const auto& [key, connections] : idle_)
    count += connections.size();
  return count;
}

}  // namespace meshgate::dp
