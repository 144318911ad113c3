#include "dataplane/capture/capture_options.h"

#include <gtest/gtest.h>

namespace meshgate::capture {
namespace {

TEST(CaptureOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(validateCaptureOptions({}).empty());
}

TEST(CaptureOptionsTest, PortsOutsideTheRangeAreNamed) {
  CaptureOptions options;
  options.inboundPort = 65536;
  options.outboundPort = -1;
  options.excludeInboundPorts = {80, 0};
  EXPECT_EQ(validateCaptureOptions(options),
            (std::vector<std::string>{"inboundPort: 65536 is not a port (1-65535)",
                                      "outboundPort: -1 is not a port (1-65535)",
                                      "excludeInboundPorts[1]: 0 is not a port (1-65535)"}));
}

TEST(CaptureOptionsTest, TheListenersNeedPortsOfTheirOwn) {
  CaptureOptions options;
  options.inboundPort = 15001;
  EXPECT_EQ(validateCaptureOptions(options),
            (std::vector<std::string>{
                "outboundPort: 15001 is also the inbound port; the two listeners need their own "
                "ports"}));
  options.inboundPort = 15000;
  EXPECT_EQ(validateCaptureOptions(options),
            (std::vector<std::string>{
                "15000 is the proxy's admin port and cannot receive captured traffic"}));
}

TEST(CaptureOptionsTest, RootCannotBeTheProxy) {
  CaptureOptions options;
  options.proxyUid = 0;
  options.proxyGid = 0;
  EXPECT_EQ(validateCaptureOptions(options),
            (std::vector<std::string>{"proxyUid: must not be 0 (root)",
                                      "proxyGid: must not be 0 (root)"}));
}

TEST(CaptureOptionsTest, CidrsMustBeWrittenAsIptablesPrintsThem) {
  CaptureOptions options;
  options.excludeOutboundCidrs = {"10.0.0.0/8", "192.168.1.1", "fd00::/8"};
  EXPECT_EQ(validateCaptureOptions(options),
            (std::vector<std::string>{
                "excludeOutboundCidrs[1]: \"192.168.1.1\" must be written 192.168.1.1/32",
                "excludeOutboundCidrs[2]: \"fd00::/8\" is IPv6; capture is IPv4 only"}));
}

TEST(CaptureOptionsTest, InboundExemptionsAlwaysHoldTheAdminAndProxyPortsOnce) {
  CaptureOptions options;
  options.excludeInboundPorts = {15020, 15000, 15020, 15006};
  EXPECT_EQ(inboundExemptPorts(options), (std::vector<int>{15000, 15006, 15001, 15020}));
}

TEST(CaptureOptionsTest, ParsesPortLists) {
  EXPECT_EQ(*parsePortList(""), std::vector<int>{});
  EXPECT_EQ(*parsePortList("  "), std::vector<int>{});
  EXPECT_EQ(*parsePortList("15000"), std::vector<int>{15000});
  EXPECT_EQ(*parsePortList("15000, 15020 ,1"), (std::vector<int>{15000, 15020, 1}));
  EXPECT_EQ(parsePortList("15000,,15020").error(), "empty entry in port list \"15000,,15020\"");
  EXPECT_EQ(parsePortList("80,http").error(), "\"http\" is not a port (1-65535)");
  EXPECT_EQ(parsePortList("65536").error(), "\"65536\" is not a port (1-65535)");
  EXPECT_EQ(parsePortList("0").error(), "\"0\" is not a port (1-65535)");
  EXPECT_EQ(parsePortList("-5").error(), "\"-5\" is not a port (1-65535)");
  EXPECT_EQ(parsePortList("80x").error(), "\"80x\" is not a port (1-65535)");
}

TEST(CaptureOptionsTest, ParsesCidrLists) {
  EXPECT_EQ(*parseCidrList(""), std::vector<std::string>{});
  EXPECT_EQ(*parseCidrList("10.0.0.0/8, 192.168.1.1 ,0.0.0.0/0"),
            (std::vector<std::string>{"10.0.0.0/8", "192.168.1.1/32", "0.0.0.0/0"}));
  EXPECT_EQ(parseCidrList("10.0.0.0/8,").error(), "empty entry in CIDR list \"10.0.0.0/8,\"");
  EXPECT_EQ(parseCidrList("10.0.0.0/33").error(),
            "\"10.0.0.0/33\": the prefix length must be a number from 0 to 32");
  EXPECT_EQ(parseCidrList("10.0.0.0/").error(),
            "\"10.0.0.0/\": the prefix length must be a number from 0 to 32");
  EXPECT_EQ(parseCidrList("10.0.0/8").error(),
            "\"10.0.0/8\" is not an IPv4 address or CIDR (e.g. 10.0.0.0/8)");
  EXPECT_EQ(parseCidrList("example.com").error(),
            "\"example.com\" is not an IPv4 address or CIDR (e.g. 10.0.0.0/8)");
  EXPECT_EQ(parseCidrList("::1").error(), "\"::1\" is IPv6; capture is IPv4 only");
  EXPECT_EQ(parseCidrList("172.16.5.0/12").error(),
            "\"172.16.5.0/12\" has host bits set; the network is 172.16.0.0/12");
}

TEST(CaptureOptionsTest, JoinsPortsAsTheFlagsTakeThem) {
  EXPECT_EQ(joinPorts({}), "");
  EXPECT_EQ(joinPorts({15000, 15020}), "15000,15020");
}

}  // namespace
}  // namespace meshgate::capture
