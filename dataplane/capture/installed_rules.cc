// The read-back check of meshgate-init; see dataplane/capture/installed_rules.h.
#include "dataplane/capture/installed_rules.h"

#include <algorithm>
#include <map>
#include <set>

#include "dataplane/capture/capture_rules.h"

namespace meshgate::capture {
namespace {

// "-A CHAIN rest" → CHAIN; "" for anything else.
std::string chainOf(std::string_view rule) {
  if (rule.rfind("-A ", 0) != 0) return "";
  rule.remove_prefix(3);
  return std::string(rule.substr(0, rule.find(' ')));
}

std::string listed(const std::vector<std::string>& rules) {
  if (rules.empty()) return "(none)";
  std::string out;
  for (const std::string& rule : rules)
    out += "\n    " + rule;
  return out;
}

struct NatTable {
  bool found = false;
  std::set<std::string> chains;
  std::map<std::string, std::vector<std::string>> rules;  // by chain, in order
};

NatTable parseNatTable(std::string_view text) {
  NatTable table;
  bool inNat = false;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '*') {
      inNat = line == "*nat";
      table.found = table.found || inNat;
      continue;
    }
    if (!inNat) continue;
    if (line == "COMMIT") {
      inNat = false;
    } else if (line.front() == ':') {
      table.chains.insert(std::string(line.substr(1, line.find(' ') - 1)));
    } else if (const std::string chain = chainOf(line); !chain.empty()) {
      table.rules[chain].emplace_back(line);
    }
  }
  return table;
}

}  // namespace

std::vector<std::string> checkInstalledRules(std::string_view saveOutput,
                                             const std::vector<std::string>& expectedRules) {
  std::vector<std::string> problems;
  const NatTable table = parseNatTable(saveOutput);
  if (!table.found) {
    problems.push_back("the iptables-save output has no nat table");
    return problems;
  }

  std::map<std::string, std::vector<std::string>> expected;
  std::vector<std::string> order;
  for (const std::string& rule : expectedRules) {
    const std::string chain = chainOf(rule);
    if (expected.find(chain) == expected.end()) order.push_back(chain);
    expected[chain].push_back(rule);
  }

  for (const std::string& chain : order) {
    if (table.chains.count(chain) == 0) {
      problems.push_back("chain " + chain + " is missing");
      continue;
    }
    const auto found = table.rules.find(chain);
    const std::vector<std::string> installed =
        found == table.rules.end() ? std::vector<std::string>{} : found->second;
    const std::vector<std::string>& wanted = expected[chain];
    if (chain == kInboundChain || chain == kOutputChain) {
      if (installed != wanted) {
        problems.push_back("chain " + chain + " holds" + listed(installed) + "\n  instead of" +
                           listed(wanted));
      }
      continue;
    }
    for (const std::string& rule : wanted) {
      if (std::find(installed.begin(), installed.end(), rule) == installed.end())
        problems.push_back("chain " + chain + " lacks \"" + rule + "\"");
    }
  }
  return problems;
}

}  // namespace meshgate::capture
