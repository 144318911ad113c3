// A replica's report of its proxies, as JSON; see dataplane_report.h.
#include "operator/dataplane_report.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "kube/wire_time.h"

namespace meshgate::op {

namespace {

constexpr std::size_t kMaxMessage = 512;
constexpr std::size_t kMaxLabel = 63;

// At most kMaxMessage bytes, cut on a UTF-8 character boundary.
std::string shortened(const std::string& message) {
  if (message.size() <= kMaxMessage) return message;
  std::size_t end = kMaxMessage - 3;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80)
    end--;
  return message.substr(0, end) + "...";
}

std::vector<std::string> firstOnly(const std::vector<std::string>& errors) {
  if (errors.empty()) return {};
  return {shortened(errors.front())};
}

// Reads an optional string member; false when it is there but not a string.
bool readString(const nlohmann::json& object, const char* key, std::string& out) {
  const auto found = object.find(key);
  if (found == object.end()) return true;
  if (!found->is_string()) return false;
  out = found->get<std::string>();
  return true;
}

bool readStrings(const nlohmann::json& value, std::vector<std::string>& out) {
  if (!value.is_array()) return false;
  for (const auto& item : value) {
    if (!item.is_string()) return false;
    out.push_back(item.get<std::string>());
  }
  return true;
}

Expected<ReportedDataplane, std::string> decodeDataplane(const nlohmann::json& item,
                                                         const std::string& where) {
  if (!item.is_object()) return where + ": must be an object";
  ReportedDataplane out;
  for (const auto& [key, target] :
       {std::pair{"node", &out.node}, std::pair{"mode", &out.mode},
        std::pair{"ingressClass", &out.ingressClass}, std::pair{"sentVersion", &out.sentVersion},
        std::pair{"ackedVersion", &out.ackedVersion},
        std::pair{"nackedVersion", &out.nackedVersion}}) {
    if (!readString(item, key, *target)) return where + "." + key + ": must be a string";
  }
  if (out.node.empty()) return where + ".node: required";
  std::string connectedAt;
  if (!readString(item, "connectedAt", connectedAt))
    return where + ".connectedAt: must be a string";
  if (!connectedAt.empty()) {
    const auto parsed = kube::parseTime(connectedAt);
    if (!parsed) return where + ".connectedAt: not an RFC 3339 UTC time: " + connectedAt;
    out.connectedAt = *parsed;
  }
  if (const auto found = item.find("nackErrors");
      found != item.end() && !readStrings(*found, out.nackErrors))
    return where + ".nackErrors: must be a list of strings";
  if (const auto found = item.find("refusedRoutes"); found != item.end()) {
    if (!found->is_object()) return where + ".refusedRoutes: must be an object";
    for (const auto& [route, errors] : found->items()) {
      if (!readStrings(errors, out.refusedRoutes[route]))
        return where + ".refusedRoutes[" + route + "]: must be a list of strings";
    }
  }
  return out;
}

}  // namespace

DataplaneReport makeDataplaneReport(const std::string& replica,
                                    const std::vector<DataplaneState>& states) {
  DataplaneReport report;
  report.replica = replica;
  for (const auto& state : states) {
    if (!isGateway(state.info)) continue;  // the leader counts gateways only
    ReportedDataplane dataplane;
    dataplane.node = state.info.node;
    dataplane.mode = state.info.mode;
    dataplane.ingressClass = state.info.ingressClass;
    // Microseconds: what the wire carries, so that a decoded report compares equal.
    dataplane.connectedAt =
        std::chrono::time_point_cast<std::chrono::microseconds>(state.connectedAt);
    dataplane.sentVersion = state.sentVersion;
    dataplane.ackedVersion = state.ackedVersion;
    for (const auto& [route, errors] : state.refusedRoutes)
      dataplane.refusedRoutes[route] = firstOnly(errors);
    dataplane.nackedVersion = state.nackedVersion;
    dataplane.nackErrors = firstOnly(state.nackErrors);
    report.dataplanes.push_back(std::move(dataplane));
  }
  std::sort(report.dataplanes.begin(), report.dataplanes.end(),
            [](const ReportedDataplane& a, const ReportedDataplane& b) {
              return std::tie(a.node, a.connectedAt) < std::tie(b.node, b.connectedAt);
            });
  return report;
}

std::string encodeDataplaneReport(const DataplaneReport& report) {
  nlohmann::json dataplanes = nlohmann::json::array();
  for (const auto& dataplane : report.dataplanes) {
    nlohmann::json item = nlohmann::json::object();
    const auto set = [&](const char* key, const std::string& value) {
      if (!value.empty()) item[key] = value;
    };
    set("node", dataplane.node);
    set("mode", dataplane.mode);
    set("ingressClass", dataplane.ingressClass);
    if (dataplane.connectedAt.time_since_epoch().count() != 0)
      item["connectedAt"] = kube::formatMicroTime(dataplane.connectedAt);
    set("sentVersion", dataplane.sentVersion);
    set("ackedVersion", dataplane.ackedVersion);
    if (!dataplane.refusedRoutes.empty()) item["refusedRoutes"] = dataplane.refusedRoutes;
    set("nackedVersion", dataplane.nackedVersion);
    if (!dataplane.nackErrors.empty()) item["nackErrors"] = dataplane.nackErrors;
    dataplanes.push_back(std::move(item));
  }
  nlohmann::json out = {{"replica", report.replica}};
  if (!dataplanes.empty()) out["dataplanes"] = std::move(dataplanes);
  // A proxy's message cut in the middle of a character must not make dump() throw.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Expected<DataplaneReport, std::string> decodeDataplaneReport(std::string_view json) {
  const auto root = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return std::string("not JSON");
  if (!root.is_object()) return std::string("must be an object");
  DataplaneReport report;
  if (!readString(root, "replica", report.replica)) return std::string("replica: must be a string");
  if (report.replica.empty()) return std::string("replica: required");
  const auto dataplanes = root.find("dataplanes");
  if (dataplanes == root.end()) return report;
  if (!dataplanes->is_array()) return std::string("dataplanes: must be a list");
  for (std::size_t i = 0; i < dataplanes->size(); ++i) {
    auto dataplane = decodeDataplane((*dataplanes)[i], "dataplanes[" + std::to_string(i) + "]");
    if (!dataplane) return dataplane.error();
    report.dataplanes.push_back(std::move(*dataplane));
  }
  return report;
}

std::vector<DataplaneState> reportedStates(const DataplaneReport& report) {
  std::vector<DataplaneState> out;
  out.reserve(report.dataplanes.size());
  for (const auto& dataplane : report.dataplanes) {
    DataplaneState state;
    state.info.node = dataplane.node;
    state.info.mode = dataplane.mode;
    state.info.ingressClass = dataplane.ingressClass;
    state.connectedAt = dataplane.connectedAt;
    state.sentVersion = dataplane.sentVersion;
    state.ackedVersion = dataplane.ackedVersion;
    state.refusedRoutes = dataplane.refusedRoutes;
    state.nackedVersion = dataplane.nackedVersion;
    state.nackErrors = dataplane.nackErrors;
    out.push_back(std::move(state));
  }
  return out;
}

std::string replicaLabel(std::string_view id) {
  std::string label;
  for (const char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      label += static_cast<char>(std::tolower(u));
    } else if (!label.empty() && label.back() != '-') {
      label += '-';
    }
  }
  while (!label.empty() && label.back() == '-')
    label.pop_back();
  if (label.empty()) label = "replica";
  if (label.size() > kMaxLabel) {
    const std::string hash = sha256Hex(id, 10);
    label.resize(kMaxLabel - hash.size() - 1);
    while (!label.empty() && label.back() == '-')
      label.pop_back();
    label += "-" + hash;
  }
  return label;
}

std::string dataplaneReportName(const std::string& replica) {
  return std::string(kDataplaneReportPrefix) + replica;
}

}  // namespace meshgate::op
