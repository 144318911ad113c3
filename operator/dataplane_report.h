// DataplaneReport: what one operator replica tells the leader about the proxies connected to it,
// so that the leader's Programmed verdicts count every proxy, not only its own. A replica that
// does not lead writes its report into ConfigMap `meshgate-dataplanes-<replica>` of the system
// namespace (dataplane_report_writer.h); the leader reads the others' reports from an informer
// (config_stream.h) and merges them into its DataplaneRegistry. Pure: encoding, decoding and the
// names, no I/O.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "operator/dataplane_registry.h"

namespace meshgate::op {

// The label that selects the reports, the data key that holds one, and the ConfigMaps' prefix.
inline constexpr const char* kDataplaneReportLabel = "meshgate.io/dataplane-report";
inline constexpr const char* kDataplaneReportKey = "report.json";
inline constexpr std::string_view kDataplaneReportPrefix = "meshgate-dataplanes-";

struct ReportedDataplane {
  std::string node;
  std::string mode;
  std::string ingressClass;
  std::chrono::system_clock::time_point connectedAt;
  std::string sentVersion;
  std::string ackedVersion;
  // Route name → its first error (the verdicts only ever quote the first).
  std::map<std::string, std::vector<std::string>> refusedRoutes;
  std::string nackedVersion;
  std::vector<std::string> nackErrors;  // the first error only

  bool operator==(const ReportedDataplane&) const = default;
};

struct DataplaneReport {
  std::string replica;
  std::vector<ReportedDataplane> dataplanes;  // sorted by node, then connectedAt

  bool operator==(const DataplaneReport&) const = default;
};

// The report of `replica` for the gateways among these proxies (DataplaneRegistry::list()):
// sidecars count in no status, and thousands of them would not fit. Error lists are cut to
// their first entry and long messages shortened, so a report of thousands of proxies stays well
// under a ConfigMap's 1 MiB.
DataplaneReport makeDataplaneReport(const std::string& replica,
                                    const std::vector<DataplaneState>& states);

// Compact JSON: empty fields are left out. Deterministic: the same report, the same bytes.
std::string encodeDataplaneReport(const DataplaneReport& report);
// Never throws: malformed input gives an error that says what is wrong.
Expected<DataplaneReport, std::string> decodeDataplaneReport(std::string_view json);

// The states the registry merges (DataplaneRegistry::setRemote).
std::vector<DataplaneState> reportedStates(const DataplaneReport& report);

// A DNS label (RFC 1123: lowercase alphanumerics and '-', at most 63) naming the replica `id`
// ("op-7f9c_12ab" → "op-7f9c-12ab"); an id that must be shortened keeps a hash of the whole of
// it, so two long ids never collide.
std::string replicaLabel(std::string_view id);
// "meshgate-dataplanes-<replica>" (replica as returned by replicaLabel).
std::string dataplaneReportName(const std::string& replica);

}  // namespace meshgate::op
