// DataplaneRegistry: the proxies connected to this operator replica's config server and what
// each has been sent, has ACKed and has refused. The config sessions report into it; the
// controllers ask it whether an object is programmed (every connected proxy that should carry it
// has ACKed a version containing its current generation), and it tells them when that may have
// changed. The leader also holds the proxies other replicas report (setRemote) and counts them
// too. Thread-safe: sessions call it from the server's threads, controllers from workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace meshgate::op {

struct DataplaneInfo {
  std::string node;          // from the Hello
  std::string mode;          // api::stream::kModeGateway or kModeSidecar
  std::string ingressClass;  // gateway mode; empty for a sidecar
  std::string identity;      // the SPIFFE ID of the client certificate it is served as
  std::string proxyVersion;
  std::string peer;  // "ip:port"
};

using SessionId = std::uint64_t;

// Gateways are the proxies Programmed counts: sidecars are listed (list(), connectedCount()) but
// carry no ApiRoute or MeshService status, are not reported to the leader and name no class.
bool isGateway(const DataplaneInfo& info);

// What a snapshot version holds. Built by the publisher with each version.
struct SnapshotContents {
  // "ApiRoute/<ns>/<name>" or "MeshService/<ns>/<name>" → metadata.generation.
  std::map<std::string, std::int64_t> generations;
  // The config's route names ("<ns>/<name>", "<ns>/<name>.2") → the ApiRoute object key.
  std::map<std::string, std::string> routeOwners;
};
using SnapshotContentsPtr = std::shared_ptr<const SnapshotContents>;

// One proxy's state, as /dataplanes and the status computation see it.
struct DataplaneState {
  SessionId id = 0;
  DataplaneInfo info;
  std::chrono::system_clock::time_point connectedAt;
  std::string sentVersion;
  std::string ackedVersion;
  std::chrono::steady_clock::time_point ackedAt;
  // Routes of the ACKed version the proxy left out (config route name → errors).
  std::map<std::string, std::vector<std::string>> refusedRoutes;
  std::string nackedVersion;  // the latest refused version, until a later ACK
  std::vector<std::string> nackErrors;
};

// Whether an object is programmed: `total` proxies should carry it, `programmed` of them have
// ACKed a version with its current generation; `refusal` is set when one of them NACKed the
// latest version sent to it ("<node> refused version <v>: <first error>") or left the object's
// route out of the version it ACKed ("<node> refused route <ns>/<name>: <first error>").
struct DataplaneVerdict {
  int total = 0;
  int programmed = 0;
  std::optional<std::string> refusal;
};

class DataplaneRegistry {
 public:
  // `contentsOf(version)` says what a version holds (nullptr when it is unknown: too old).
  explicit DataplaneRegistry(std::function<SnapshotContentsPtr(const std::string&)> contentsOf);

  // Session events (config_session.h).
  SessionId connected(DataplaneInfo info);
  // A frame of `bytes` reached the proxy: the whole snapshot, or a delta (config_delta.h).
  void sent(SessionId id, const std::string& version, std::size_t bytes = 0, bool delta = false);
  void acked(SessionId id, const std::string& version,
             std::map<std::string, std::vector<std::string>> refusedRoutes = {});
  void nacked(SessionId id, const std::string& version, std::vector<std::string> errors);
  void disconnected(SessionId id);

  // Controllers. `objectKey` as in SnapshotContents; `carriers` selects the proxies that should
  // carry the object (e.g. the gateways of its ingress class).
  DataplaneVerdict verdict(const std::string& objectKey, std::int64_t generation,
                           const std::function<bool(const DataplaneInfo&)>& carriers) const;

  // Proxies connected to other replicas, as those replicas report them (dataplane_report.h).
  // What `source` (a report's name) lists replaces what it listed before; an empty list forgets
  // it. verdict() counts them with the local sessions, once per node: a node connected here
  // counts as its local session, and a node two reports list (it moved, and the old replica's
  // report is not updated yet) as the one connected later. Only gateways are kept. Changes no
  // local state and calls no listener. Returns the ingress classes of the gateways the source
  // listed before or lists now.
  std::set<std::string> setRemote(const std::string& source, std::vector<DataplaneState> states);
  // The ingress classes of the gateways other replicas report.
  std::set<std::string> remoteClasses() const;

  // The proxies connected to this replica (not the reported ones).
  std::vector<DataplaneState> list() const;
  // Whether every connected gateway of `ingressClass` has ACKed `version` (cheap: no copies; the
  // config stream asks at every ACK).
  bool allAcked(const std::string& ingressClass, const std::string& version) const;
  std::size_t connectedCount(const std::string& mode) const;
  std::uint64_t nacksTotal() const;
  // Frames sent so far: {count, bytes} of whole snapshots and of deltas.
  struct FramesSent {
    std::uint64_t snapshots = 0;
    std::uint64_t snapshotBytes = 0;
    std::uint64_t deltas = 0;
    std::uint64_t deltaBytes = 0;
  };
  FramesSent framesSent() const;

  // Runs after every change of any proxy's state (connect, ACK, NACK, disconnect), outside the
  // registry's lock. Set once, before sessions start.
  void onChange(std::function<void(const DataplaneState&)> listener);

 private:
  using ContentsCache = std::map<std::string_view, SnapshotContentsPtr>;
  // Adds one proxy's state to `out`; called under mutex_.
  void count(const DataplaneState& state, const std::string& objectKey, std::int64_t generation,
             ContentsCache& contentsByVersion, DataplaneVerdict& out) const;

  std::function<SnapshotContentsPtr(const std::string&)> contentsOf_;
  mutable std::mutex mutex_;
  SessionId nextId_ = 1;
  std::map<SessionId, DataplaneState> sessions_;
  std::map<std::string, int> localNodes_;                      // node → sessions connected here
  std::map<std::string, std::vector<DataplaneState>> remote_;  // by source
  // The reported state that counts for each node (pointers into remote_), rebuilt by setRemote.
  std::map<std::string, const DataplaneState*> remoteByNode_;
  std::uint64_t nacksTotal_ = 0;
  FramesSent framesSent_;
  std::function<void(const DataplaneState&)> listener_;
};

}  // namespace meshgate::op
