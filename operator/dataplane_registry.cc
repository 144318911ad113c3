// The connected proxies and their ACK state; see dataplane_registry.h.
#include "operator/dataplane_registry.h"

#include <string_view>

#include "api/config_stream_protocol.h"

namespace meshgate::op {

bool isGateway(const DataplaneInfo& info) {
  return info.mode == api::stream::kModeGateway;
}

DataplaneRegistry::DataplaneRegistry(
    std::function<SnapshotContentsPtr(const std::string&)> contentsOf)
    : contentsOf_(std::move(contentsOf)) {}

void DataplaneRegistry::onChange(std::function<void(const DataplaneState&)> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

SessionId DataplaneRegistry::connected(DataplaneInfo info) {
  DataplaneState state;
  std::function<void(const DataplaneState&)> listener;
  {
    std::lock_guard lock(mutex_);
    state.id = nextId_++;
    state.info = std::move(info);
    state.connectedAt = std::chrono::system_clock::now();
    sessions_[state.id] = state;
    localNodes_[state.info.node]++;
    listener = listener_;
  }
  if (listener) listener(state);
  return state.id;
}

void DataplaneRegistry::sent(SessionId id, const std::string& version, std::size_t bytes,
                             bool delta) {
  std::lock_guard lock(mutex_);
  (delta ? framesSent_.deltas : framesSent_.snapshots)++;
  (delta ? framesSent_.deltaBytes : framesSent_.snapshotBytes) += bytes;
  const auto found = sessions_.find(id);
  if (found != sessions_.end()) found->second.sentVersion = version;
}

void DataplaneRegistry::acked(SessionId id, const std::string& version,
                              std::map<std::string, std::vector<std::string>> refusedRoutes) {
  DataplaneState state;
  std::function<void(const DataplaneState&)> listener;
  {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(id);
    if (found == sessions_.end()) return;
    found->second.ackedVersion = version;
    found->second.refusedRoutes = std::move(refusedRoutes);
    found->second.ackedAt = std::chrono::steady_clock::now();
    found->second.nackedVersion.clear();
    found->second.nackErrors.clear();
    state = found->second;
    listener = listener_;
  }
  if (listener) listener(state);
}

void DataplaneRegistry::nacked(SessionId id, const std::string& version,
                               std::vector<std::string> errors) {
  DataplaneState state;
  std::function<void(const DataplaneState&)> listener;
  {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(id);
    if (found == sessions_.end()) return;
    found->second.nackedVersion = version;
    found->second.nackErrors = std::move(errors);
    nacksTotal_++;
    state = found->second;
    listener = listener_;
  }
  if (listener) listener(state);
}

void DataplaneRegistry::disconnected(SessionId id) {
  DataplaneState state;
  std::function<void(const DataplaneState&)> listener;
  {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(id);
    if (found == sessions_.end()) return;
    state = std::move(found->second);
    sessions_.erase(found);
    if (const auto node = localNodes_.find(state.info.node);
        node != localNodes_.end() && --node->second == 0)
      localNodes_.erase(node);
    listener = listener_;
  }
  if (listener) listener(state);
}

DataplaneVerdict DataplaneRegistry::verdict(
    const std::string& objectKey, std::int64_t generation,
    const std::function<bool(const DataplaneInfo&)>& carriers) const {
  DataplaneVerdict out;
  // Every controller asks this for every object after an ACK wave: no copies of the proxies'
  // states, and each ACKed version's contents looked up once (most proxies share a version).
  ContentsCache contentsByVersion;
  std::lock_guard lock(mutex_);
  for (const auto& [id, state] : sessions_) {
    if (carriers(state.info)) count(state, objectKey, generation, contentsByVersion, out);
  }
  for (const auto& [node, state] : remoteByNode_) {
    if (localNodes_.count(node) > 0 || !carriers(state->info)) continue;
    count(*state, objectKey, generation, contentsByVersion, out);
  }
  return out;
}

void DataplaneRegistry::count(const DataplaneState& state, const std::string& objectKey,
                              std::int64_t generation, ContentsCache& contentsByVersion,
                              DataplaneVerdict& out) const {
  out.total++;
  if (!state.nackedVersion.empty() && state.nackedVersion == state.sentVersion && !out.refusal) {
    out.refusal =
        state.info.node + " refused version " + state.nackedVersion + ": " +
        (state.nackErrors.empty() ? std::string("no reason given") : state.nackErrors.front());
  }
  if (state.ackedVersion.empty()) return;
  auto [cached, inserted] = contentsByVersion.try_emplace(state.ackedVersion);
  // The publisher's lock is only ever taken inside this one, never the other way round.
  if (inserted) cached->second = contentsOf_(state.ackedVersion);
  const SnapshotContents* contents = cached->second.get();
  // A version this replica does not know (too old, or not built here yet): not programmed.
  if (!contents) return;
  const auto found = contents->generations.find(objectKey);
  if (found == contents->generations.end() || found->second != generation) return;
  bool refused = false;
  for (const auto& [route, errors] : state.refusedRoutes) {
    const auto owner = contents->routeOwners.find(route);
    if (owner == contents->routeOwners.end() || owner->second != objectKey) continue;
    refused = true;
    if (!out.refusal) {
      out.refusal = state.info.node + " refused route " + route + ": " +
                    (errors.empty() ? std::string("no reason given") : errors.front());
    }
  }
  if (!refused) out.programmed++;
}

std::set<std::string> DataplaneRegistry::setRemote(const std::string& source,
                                                   std::vector<DataplaneState> states) {
  // Only gateways count (verdicts, remote classes); a report of an older replica may list other
  // proxies, which are dropped here.
  std::erase_if(states, [](const DataplaneState& state) { return !isGateway(state.info); });
  std::set<std::string> classes;
  std::lock_guard lock(mutex_);
  if (const auto before = remote_.find(source); before != remote_.end()) {
    for (const auto& state : before->second)
      classes.insert(state.info.ingressClass);
  }
  for (const auto& state : states)
    classes.insert(state.info.ingressClass);
  if (states.empty()) {
    remote_.erase(source);
  } else {
    remote_[source] = std::move(states);
  }
  remoteByNode_.clear();
  for (const auto& [name, reported] : remote_) {
    for (const auto& state : reported) {
      auto [slot, inserted] = remoteByNode_.try_emplace(state.info.node, &state);
      if (!inserted && slot->second->connectedAt < state.connectedAt) slot->second = &state;
    }
  }
  return classes;
}

std::set<std::string> DataplaneRegistry::remoteClasses() const {
  std::set<std::string> classes;
  std::lock_guard lock(mutex_);
  for (const auto& [node, state] : remoteByNode_)
    classes.insert(state->info.ingressClass);
  return classes;
}

bool DataplaneRegistry::allAcked(const std::string& ingressClass,
                                 const std::string& version) const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, state] : sessions_) {
    if (isGateway(state.info) && state.info.ingressClass == ingressClass &&
        state.ackedVersion != version)
      return false;
  }
  return true;
}

std::vector<DataplaneState> DataplaneRegistry::list() const {
  std::lock_guard lock(mutex_);
  std::vector<DataplaneState> out;
  for (const auto& [id, state] : sessions_)
    out.push_back(state);
  return out;
}

std::size_t DataplaneRegistry::connectedCount(const std::string& mode) const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [id, state] : sessions_)
    count += state.info.mode == mode ? 1 : 0;
  return count;
}

DataplaneRegistry::FramesSent DataplaneRegistry::framesSent() const {
  std::lock_guard lock(mutex_);
  return framesSent_;
}

std::uint64_t DataplaneRegistry::nacksTotal() const {
  std::lock_guard lock(mutex_);
  return nacksTotal_;
}

}  // namespace meshgate::op
