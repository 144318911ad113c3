// Http2UpstreamPool: a worker's HTTP/2 upstream connections, by pool key (endpoint and how it is
// secured, as UpstreamPool's). A request takes a stream on the first connection to its endpoint
// that can open one; when all are at the server's stream limit (or none exists) the attempt opens
// another. Connections without a stream for their cluster's pool.idleTimeout are closed by
// prune(), ended ones dropped. Used only on the worker's thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/proxy/upstream_http2_connection.h"

namespace meshgate::dp {

class Http2UpstreamPool {
 public:
  // A connection to `key` that can open a stream now, or null.
  std::shared_ptr<UpstreamHttp2Connection> find(const std::string& key) {
    const auto it = connections_.find(key);
    if (it == connections_.end()) return nullptr;
    for (const Entry& entry : it->second)
      if (entry.connection->usable()) return entry.connection;
    return nullptr;
  }

  void add(const std::string& key, std::shared_ptr<UpstreamHttp2Connection> connection,
           std::chrono::milliseconds idleTimeout) {
    connections_[key].push_back({std::move(connection), idleTimeout});
  }

  // Drops ended connections and closes those idle past their timeout.
  void prune() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto& entries = it->second;
      std::erase_if(entries, [now](const Entry& entry) {
        const auto since = entry.connection->idleSince();
        if (!entry.connection->ended() && !(since && now - *since >= entry.idleTimeout))
          return false;
        entry.connection->close();
        return true;
      });
      it = entries.empty() ? connections_.erase(it) : std::next(it);
    }
  }

  void clear() {
    for (auto& [key, entries] : connections_)
      for (Entry& entry : entries)
        entry.connection->close();
    connections_.clear();
  }

  size_t size() const {
    size_t count = 0;
    for (const auto& [key, entries] : connections_)
      count += entries.size();
    return count;
  }

 private:
  struct Entry {
    std::shared_ptr<UpstreamHttp2Connection> connection;
    std::chrono::milliseconds idleTimeout;
  };
  std::unordered_map<std::string, std::vector<Entry>> connections_;
};

}  // namespace meshgate::dp
