// Tests for CertificateTemplate's factories and validateTemplate().
#include "pki/certificate_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string rejection(const CertificateTemplate& t) {
  auto status = validateTemplate(t);
  return status.ok() ? std::string() : status.error().message;
}

TEST(CertificateTemplateTest, WorkloadTemplateCarriesOnlyTheSpiffeId) {
  const auto t = CertificateTemplate::forWorkload("spiffe://cluster.local/ns/shop/sa/orders");
  EXPECT_TRUE(t.commonName.empty());
  EXPECT_THAT(t.uris, ElementsAre("spiffe://cluster.local/ns/shop/sa/orders"));
  EXPECT_TRUE(t.dnsNames.empty());
  EXPECT_TRUE(t.serverAuth);
  EXPECT_TRUE(t.clientAuth);
  EXPECT_FALSE(t.isCa);
  EXPECT_EQ(t.lifetime, 24h);
  EXPECT_EQ(t.backdate, 5min);
  EXPECT_TRUE(validateTemplate(t).ok());
}

TEST(CertificateTemplateTest, HostTemplateSplitsAddressesFromNames) {
  const auto t = CertificateTemplate::forHosts({"api.example.com", "10.0.0.1", "*.example.com"});
  EXPECT_EQ(t.commonName, "api.example.com");
  EXPECT_THAT(t.dnsNames, ElementsAre("api.example.com", "*.example.com"));
  EXPECT_THAT(t.ipAddresses, ElementsAre("10.0.0.1"));
  EXPECT_TRUE(t.serverAuth);
  EXPECT_FALSE(t.clientAuth);
  EXPECT_TRUE(validateTemplate(t).ok());
}

TEST(CertificateTemplateTest, HostTemplateLeavesOutACommonNameTooLongForX520) {
  const std::string longHost = std::string(40, 'a') + "." + std::string(40, 'b') + ".example";
  const auto t = CertificateTemplate::forHosts({longHost});
  EXPECT_TRUE(t.commonName.empty());
  EXPECT_TRUE(validateTemplate(t).ok());
}

TEST(CertificateTemplateTest, TemplateNamingNothingIsRefused) {
  EXPECT_THAT(rejection(CertificateTemplate{}), HasSubstr("names nothing"));
}

TEST(CertificateTemplateTest, LifetimeMustBePositiveAndBounded) {
  auto t = CertificateTemplate::forHosts({"a.example"});
  t.lifetime = 0s;
  EXPECT_THAT(rejection(t), HasSubstr("lifetime must be positive"));
  t.lifetime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::years(101));
  EXPECT_THAT(rejection(t), HasSubstr("at most 100 years"));
  t.lifetime = 1h;
  t.backdate = -1s;
  EXPECT_THAT(rejection(t), HasSubstr("backdate"));
}

TEST(CertificateTemplateTest, MalformedDnsNamesAreRefusedByName) {
  for (const char* bad : {"", "-a.example", "a..example", "a b.example", "a.*.example", "a.",
                          "under_score.example"}) {
    auto t = CertificateTemplate::forHosts({});
    t.dnsNames = {bad};
    EXPECT_THAT(rejection(t), HasSubstr("dnsNames entry \"" + std::string(bad) + "\"")) << bad;
  }
  auto t = CertificateTemplate::forHosts({"*.apps.example.com", "xn--bcher-kva.example"});
  EXPECT_TRUE(validateTemplate(t).ok());
}

TEST(CertificateTemplateTest, CommonNameLongerThan64IsRefused) {
  CertificateTemplate t;
  t.commonName = std::string(65, 'c');
  EXPECT_THAT(rejection(t), HasSubstr("at most 64"));
}

TEST(CertificateTemplateTest, MalformedSpiffeIdsAreRefused) {
  for (const char* bad :
       {"spiffe://Cluster.local/ns/a/sa/b", "spiffe://cluster.local", "spiffe://cluster.local/",
        "spiffe://cluster.local/ns//sa", "spiffe://cluster.local/ns/../sa/b", "spiffe:///ns/a",
        "spiffe://cluster.local/ns/a?x=1"}) {
    const auto t = CertificateTemplate::forWorkload(bad);
    EXPECT_THAT(rejection(t), HasSubstr("not a valid SPIFFE ID")) << bad;
  }
}

TEST(CertificateTemplateTest, TwoSpiffeIdsAreRefused) {
  auto t = CertificateTemplate::forWorkload("spiffe://cluster.local/ns/a/sa/b");
  t.uris.push_back("spiffe://cluster.local/ns/a/sa/c");
  EXPECT_THAT(rejection(t), HasSubstr("exactly one"));
}

TEST(CertificateTemplateTest, OtherUrisNeedASchemeAndPrintableAscii) {
  auto t = CertificateTemplate::forHosts({"a.example"});
  t.uris = {"https://a.example/x"};
  EXPECT_TRUE(validateTemplate(t).ok());
  for (const char* bad : {"no-scheme", "https://a b", "1http://x", "https://caf\xc3\xa9"}) {
    t.uris = {bad};
    EXPECT_THAT(rejection(t), HasSubstr("not a valid URI")) << bad;
  }
}

TEST(CertificateTemplateTest, MalformedIpAddressesAreRefused) {
  auto t = CertificateTemplate::forHosts({"a.example"});
  t.ipAddresses = {"10.0.0.300"};
  EXPECT_THAT(rejection(t), HasSubstr("ipAddresses entry \"10.0.0.300\""));
}

}  // namespace
}  // namespace pki
