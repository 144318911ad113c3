// meshgate-init: the init container the webhook injects into meshed pods. It installs the nat
// table of capture_rules.h in the pod's network namespace (iptables-restore, the whole table),
// reads it back (iptables-save -t nat) and checks our rules are there, then exits: the pod's TCP
// then reaches the meshgate-proxy sidecar, inbound on 15006 and outbound on 15001. Needs
// CAP_NET_ADMIN and CAP_NET_RAW; runs last of the pod's init containers.
//   meshgate-init [--proxy-uid 1337] [--proxy-gid 1337] [--inbound-port 15006]
//                 [--outbound-port 15001] [--exclude-inbound-ports 15020,15021]
//                 [--exclude-outbound-ports 5432] [--exclude-outbound-cidrs 10.96.0.1/32]
//                 [--iptables-restore PATH] [--iptables-save PATH] [--timeout-seconds 30]
//                 [--dry-run]
// Exit status: 0 installed (or printed, with --dry-run), 1 failed, 2 bad arguments.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "dataplane/capture/capture_options.h"
#include "dataplane/capture/capture_rules.h"
#include "dataplane/capture/installed_rules.h"
#include "dataplane/capture/run_process.h"

namespace {

namespace capture = meshgate::capture;

int fail(int status, const std::string& message) {
  std::fprintf(stderr, "meshgate-init: %s\n", message.c_str());
  return status;
}

// Runs `argv` to completion; the error says what went wrong, with the program's stderr.
meshgate::Expected<capture::ProcessResult, std::string> run(const std::vector<std::string>& argv,
                                                            const std::string& input,
                                                            int timeoutSeconds) {
  std::string command;
  for (const std::string& arg : argv)
    command += (command.empty() ? "" : " ") + arg;
  auto result = capture::runProcess(argv, input, std::chrono::seconds(timeoutSeconds));
  if (!result) return result.error();
  while (!result->err.empty() && result->err.back() == '\n')
    result->err.pop_back();
  if (result->timedOut) {
    return command + " did not finish within " + std::to_string(timeoutSeconds) +
           " s and was killed" + (result->err.empty() ? "" : "; its stderr:\n" + result->err);
  }
  if (!result->succeeded()) {
    return command + " failed (" + result->describe() + ")" +
           (result->err.empty() ? "" : "; its stderr:\n" + result->err);
  }
  return result;
}

std::string orNone(const std::string& list) {
  return list.empty() ? "none" : list;
}

}  // namespace

int main(int argc, char** argv) {
  capture::CaptureOptions options;
  std::string excludeInboundPorts;
  std::string excludeOutboundPorts;
  std::string excludeOutboundCidrs;
  std::string restorePath = "/usr/sbin/iptables-legacy-restore";
  std::string savePath = "/usr/sbin/iptables-legacy-save";
  int timeoutSeconds = 30;
  bool dryRun = false;

  CLI::App app{
      "meshgate-init: redirects the pod's TCP traffic to the meshgate-proxy sidecar (iptables nat "
      "table, IPv4)"};
  app.add_option("--proxy-uid", options.proxyUid,
                 "uid of the proxy, whose own connections are not redirected")
      ->capture_default_str();
  app.add_option("--proxy-gid", options.proxyGid,
                 "gid of the proxy, whose own connections are not redirected")
      ->capture_default_str();
  app.add_option("--inbound-port", options.inboundPort, "the proxy's inbound listener port")
      ->capture_default_str();
  app.add_option("--outbound-port", options.outboundPort, "the proxy's outbound listener port")
      ->capture_default_str();
  app.add_option("--exclude-inbound-ports", excludeInboundPorts,
                 "comma-separated destination ports reached without the proxy (15000 and the "
                 "proxy's own ports always are)");
  app.add_option("--exclude-outbound-ports", excludeOutboundPorts,
                 "comma-separated destination ports the pod reaches without the proxy");
  app.add_option("--exclude-outbound-cidrs", excludeOutboundCidrs,
                 "comma-separated IPv4 CIDRs the pod reaches without the proxy");
  app.add_option("--iptables-restore", restorePath, "iptables-restore program (legacy backend)")
      ->capture_default_str();
  app.add_option("--iptables-save", savePath, "iptables-save program, to check the result")
      ->capture_default_str();
  app.add_option("--timeout-seconds", timeoutSeconds,
                 "kill iptables-restore or iptables-save after this long")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_flag("--dry-run", dryRun, "print the rules and exit without installing them");
  CLI11_PARSE(app, argc, argv);

  auto inbound = capture::parsePortList(excludeInboundPorts);
  if (!inbound) return fail(2, "--exclude-inbound-ports: " + inbound.error());
  auto outbound = capture::parsePortList(excludeOutboundPorts);
  if (!outbound) return fail(2, "--exclude-outbound-ports: " + outbound.error());
  auto cidrs = capture::parseCidrList(excludeOutboundCidrs);
  if (!cidrs) return fail(2, "--exclude-outbound-cidrs: " + cidrs.error());
  options.excludeInboundPorts = std::move(*inbound);
  options.excludeOutboundPorts = std::move(*outbound);
  options.excludeOutboundCidrs = std::move(*cidrs);

  const auto table = capture::buildCaptureTable(options);
  if (!table) return fail(2, "invalid options: " + table.error());
  std::printf("%s", table->restoreInput.c_str());
  std::fflush(stdout);
  if (dryRun) return 0;

  const auto restored = run({restorePath}, table->restoreInput, timeoutSeconds);
  if (!restored) return fail(1, "installing the rules: " + restored.error());
  const auto saved = run({savePath, "-t", "nat"}, "", timeoutSeconds);
  if (!saved) return fail(1, "reading the rules back: " + saved.error());
  const std::vector<std::string> problems = capture::checkInstalledRules(saved->out, table->rules);
  if (!problems.empty()) {
    std::string message = "the nat table read back is not the one installed:";
    for (const std::string& problem : problems)
      message += "\n  " + problem;
    return fail(1, message + "\n" + savePath + " -t nat printed:\n" + saved->out);
  }

  std::vector<std::string> outboundExempt = {"uid " + std::to_string(options.proxyUid),
                                             "gid " + std::to_string(options.proxyGid), "lo"};
  for (const std::string& cidr : options.excludeOutboundCidrs)
    outboundExempt.push_back(cidr);
  if (!options.excludeOutboundPorts.empty())
    outboundExempt.push_back("ports " + capture::joinPorts(options.excludeOutboundPorts));
  std::string outboundText;
  for (const std::string& item : outboundExempt)
    outboundText += (outboundText.empty() ? "" : ", ") + item;
  std::printf(
      "meshgate-init: capture installed and verified: inbound TCP -> :%d (except ports %s); "
      "outbound TCP -> :%d (except %s)\n",
      options.inboundPort, orNone(capture::joinPorts(capture::inboundExemptPorts(options))).c_str(),
      options.outboundPort, outboundText.c_str());
  return 0;
}
