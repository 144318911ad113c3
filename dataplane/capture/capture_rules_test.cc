#include "dataplane/capture/capture_rules.h"

#include <gtest/gtest.h>

namespace meshgate::capture {
namespace {

TEST(CaptureRulesTest, DefaultsRedirectInboundAndOutboundTcpExceptTheProxyAndLoopback) {
  const auto table = buildCaptureTable({});
  ASSERT_TRUE(table.ok()) << table.error();
  EXPECT_EQ(table->rules, captureRuleLines({}));
  EXPECT_EQ(table->restoreInput,
            "# meshgate-init: transparent TCP capture for the meshgate-proxy sidecar (uid 1337, "
            "gid 1337)\n"
            "*nat\n"
            ":PREROUTING ACCEPT [0:0]\n"
            ":INPUT ACCEPT [0:0]\n"
            ":OUTPUT ACCEPT [0:0]\n"
            ":POSTROUTING ACCEPT [0:0]\n"
            ":MESHGATE_INBOUND - [0:0]\n"
            ":MESHGATE_OUTPUT - [0:0]\n"
            "-A PREROUTING -p tcp -j MESHGATE_INBOUND\n"
            "-A OUTPUT -p tcp -j MESHGATE_OUTPUT\n"
            "-A MESHGATE_INBOUND -p tcp -m tcp --dport 15000 -j RETURN\n"
            "-A MESHGATE_INBOUND -p tcp -m tcp --dport 15006 -j RETURN\n"
            "-A MESHGATE_INBOUND -p tcp -m tcp --dport 15001 -j RETURN\n"
            "-A MESHGATE_INBOUND -p tcp -j REDIRECT --to-ports 15006\n"
            "-A MESHGATE_OUTPUT -m owner --uid-owner 1337 -j RETURN\n"
            "-A MESHGATE_OUTPUT -m owner --gid-owner 1337 -j RETURN\n"
            "-A MESHGATE_OUTPUT -o lo -j RETURN\n"
            "-A MESHGATE_OUTPUT -p tcp -j REDIRECT --to-ports 15001\n"
            "COMMIT\n");
}

TEST(CaptureRulesTest, ExclusionsReturnBeforeTheRedirects) {
  CaptureOptions options;
  options.proxyUid = 2000;
  options.proxyGid = 3000;
  options.inboundPort = 16006;
  options.outboundPort = 16001;
  options.excludeInboundPorts = {15020, 15000};
  options.excludeOutboundPorts = {5432, 6379};
  options.excludeOutboundCidrs = {"10.96.0.0/12", "169.254.169.254/32"};
  EXPECT_EQ(captureRuleLines(options),
            (std::vector<std::string>{
                "-A PREROUTING -p tcp -j MESHGATE_INBOUND",
                "-A OUTPUT -p tcp -j MESHGATE_OUTPUT",
                "-A MESHGATE_INBOUND -p tcp -m tcp --dport 15000 -j RETURN",
                "-A MESHGATE_INBOUND -p tcp -m tcp --dport 16006 -j RETURN",
                "-A MESHGATE_INBOUND -p tcp -m tcp --dport 16001 -j RETURN",
                "-A MESHGATE_INBOUND -p tcp -m tcp --dport 15020 -j RETURN",
                "-A MESHGATE_INBOUND -p tcp -j REDIRECT --to-ports 16006",
                "-A MESHGATE_OUTPUT -m owner --uid-owner 2000 -j RETURN",
                "-A MESHGATE_OUTPUT -m owner --gid-owner 3000 -j RETURN",
                "-A MESHGATE_OUTPUT -o lo -j RETURN",
                "-A MESHGATE_OUTPUT -d 10.96.0.0/12 -j RETURN",
                "-A MESHGATE_OUTPUT -d 169.254.169.254/32 -j RETURN",
                "-A MESHGATE_OUTPUT -p tcp -m tcp --dport 5432 -j RETURN",
                "-A MESHGATE_OUTPUT -p tcp -m tcp --dport 6379 -j RETURN",
                "-A MESHGATE_OUTPUT -p tcp -j REDIRECT --to-ports 16001",
            }));
}

TEST(CaptureRulesTest, RestoresTheWholeNatTableSoThatASecondRunChangesNothing) {
  const auto table = buildCaptureTable({});
  ASSERT_TRUE(table.ok());
  const std::string* rules = &table->restoreInput;
  // No --noflush marker is possible in the text; what makes a re-run idempotent is that every
  // built-in chain is declared (and so flushed) and our chains are declared, not appended to.
  for (const char* chain : {":PREROUTING ACCEPT", ":INPUT ACCEPT", ":OUTPUT ACCEPT",
                            ":POSTROUTING ACCEPT", ":MESHGATE_INBOUND -", ":MESHGATE_OUTPUT -"}) {
    EXPECT_NE(rules->find(std::string("\n") + chain + " [0:0]\n"), std::string::npos) << chain;
  }
  EXPECT_EQ(rules->find("-I "), std::string::npos);
  EXPECT_EQ(rules->find("*filter"), std::string::npos);
  EXPECT_EQ(*rules, buildCaptureTable({})->restoreInput);
}

TEST(CaptureRulesTest, InvalidOptionsAreRefusedWithEveryProblem) {
  CaptureOptions options;
  options.inboundPort = 0;
  options.excludeOutboundPorts = {70000};
  options.excludeOutboundCidrs = {"10.0.0.1/8"};
  const auto table = buildCaptureTable(options);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error(),
            "inboundPort: 0 is not a port (1-65535); excludeOutboundPorts[0]: 70000 is not a port "
            "(1-65535); excludeOutboundCidrs[0]: \"10.0.0.1/8\" has host bits set; the network is "
            "10.0.0.0/8");
}

}  // namespace
}  // namespace meshgate::capture
