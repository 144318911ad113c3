// Tests of reading and checking a sidecar's identity files (workload_identity.h): a valid set
// yields its SPIFFE ID, serial and validity; a key of another certificate, a leaf of another CA,
// one outside its validity, a PEM that does not decode and a certificate without a SPIFFE ID are
// refused with a reason naming the file (and never quoting a key); every root of ca.crt is
// trusted; an empty or absent directory holds no identity, and a partial one names what is missing.
#include "dataplane/proxy/workload_identity.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/proxy/testing/fake_config_server.h"

namespace meshgate::dp {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using testing::must;
using testing::PemPair;
using testing::StreamCertificates;

constexpr char kSpiffeId[] = "spiffe://cluster.local/ns/shop/sa/orders";
constexpr char kDir[] = "/var/run/meshgate/identity";

WorkloadIdentityFiles filesOf(const PemPair& pair, const std::string& caPem) {
  WorkloadIdentityFiles files;
  files.certificatePem = pair.certificatePem;
  files.keyPem = pair.keyPem;
  files.trustBundlePem = caPem;
  return files;
}

class WorkloadIdentityTest : public ::testing::Test {
 protected:
  PemPair issue(std::chrono::seconds lifetime = 24h) const {
    return mesh_.issue(pki::CertificateTemplate::forWorkload(kSpiffeId, lifetime));
  }
  // The reason checkWorkloadIdentity() refuses `files` for, "" when it accepts them.
  static std::string refusal(
      const WorkloadIdentityFiles& files,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    auto identity = checkWorkloadIdentity(files, kDir, now);
    return identity ? std::string() : identity.error();
  }

  StreamCertificates mesh_;
};

TEST_F(WorkloadIdentityTest, ValidSetYieldsSpiffeIdSerialAndValidity) {
  const PemPair pair = issue();
  const pki::Certificate leaf = must(pki::Certificate::fromPem(pair.certificatePem));
  const auto now = std::chrono::system_clock::now();

  auto identity = checkWorkloadIdentity(filesOf(pair, mesh_.caPem()), kDir, now);

  ASSERT_TRUE(identity) << identity.error();
  EXPECT_EQ(identity->spiffeId, kSpiffeId);
  EXPECT_EQ(identity->serialHex, leaf.serialHex());
  EXPECT_EQ(identity->notBefore, leaf.notBefore());
  EXPECT_EQ(identity->notAfter, leaf.notAfter());
  EXPECT_EQ(identity->loadedAt, now);
  EXPECT_EQ(identity->leaf, leaf);
  EXPECT_TRUE(identity->intermediates.empty());
  EXPECT_EQ(identity->roots.size(), 1u);
}

TEST_F(WorkloadIdentityTest, KeyOfAnotherCertificateIsRefused) {
  WorkloadIdentityFiles files = filesOf(issue(), mesh_.caPem());
  files.keyPem = issue().keyPem;
  EXPECT_THAT(refusal(files), AllOf(StartsWith(std::string(kDir) + "/tls.key: "),
                                    HasSubstr("does not belong to the first certificate")));
}

TEST_F(WorkloadIdentityTest, LeafOfAnotherCaIsRefused) {
  const StreamCertificates foreign;
  const PemPair pair = foreign.issue(pki::CertificateTemplate::forWorkload(kSpiffeId));
  EXPECT_THAT(refusal(filesOf(pair, mesh_.caPem())),
              AllOf(StartsWith(std::string(kDir) + "/tls.crt: "),
                    HasSubstr("does not chain to a root of " + std::string(kDir) + "/ca.crt"),
                    HasSubstr("unable to get local issuer certificate")));
}

TEST_F(WorkloadIdentityTest, EveryRootOfTheBundleIsTrusted) {
  // During a CA rotation ca.crt holds the new root and the old one; a leaf of either loads.
  const StreamCertificates previous;
  const PemPair pair = previous.issue(pki::CertificateTemplate::forWorkload(kSpiffeId));
  EXPECT_EQ(refusal(filesOf(pair, mesh_.caPem() + previous.caPem())), "");
}

TEST_F(WorkloadIdentityTest, ExpiredLeafIsRefused) {
  const auto files = filesOf(issue(1h), mesh_.caPem());
  EXPECT_THAT(refusal(files, std::chrono::system_clock::now() + 2h),
              AllOf(StartsWith(std::string(kDir) + "/tls.crt: "), HasSubstr("expired at")));
}

TEST_F(WorkloadIdentityTest, LeafNotYetValidIsRefused) {
  const auto files = filesOf(issue(), mesh_.caPem());
  EXPECT_THAT(refusal(files, std::chrono::system_clock::now() - 1h),
              AllOf(StartsWith(std::string(kDir) + "/tls.crt: "), HasSubstr("not valid before")));
}

TEST_F(WorkloadIdentityTest, UndecodablePemIsRefusedNamingItsFile) {
  WorkloadIdentityFiles files = filesOf(issue(), mesh_.caPem());
  files.certificatePem = "not a certificate\n";
  EXPECT_THAT(refusal(files), StartsWith(std::string(kDir) + "/tls.crt: "));

  files = filesOf(issue(), mesh_.caPem());
  files.trustBundlePem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  EXPECT_THAT(refusal(files), StartsWith(std::string(kDir) + "/ca.crt: "));
}

TEST_F(WorkloadIdentityTest, UndecodableKeyIsRefusedWithoutQuotingIt) {
  WorkloadIdentityFiles files = filesOf(issue(), mesh_.caPem());
  files.keyPem = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUU0VDUkVU\n-----END PRIVATE KEY-----\n";
  EXPECT_THAT(refusal(files),
              AllOf(StartsWith(std::string(kDir) + "/tls.key: "), Not(HasSubstr("U0VDUkVU"))));
}

TEST_F(WorkloadIdentityTest, CertificateWithoutSpiffeIdIsRefused) {
  const PemPair pair = mesh_.issue(pki::CertificateTemplate::forHosts({"orders.shop.svc"}));
  EXPECT_THAT(refusal(filesOf(pair, mesh_.caPem())), HasSubstr("has no spiffe:// URI SAN"));
}

class IdentityDirectoryTest : public ::testing::Test {
 protected:
  IdentityDirectoryTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-identity-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~IdentityDirectoryTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
};

TEST_F(IdentityDirectoryTest, EmptyOrAbsentDirectoryHoldsNoIdentity) {
  auto empty = readWorkloadIdentityFiles(dir_);
  ASSERT_TRUE(empty) << empty.error();
  EXPECT_FALSE(empty->has_value());

  auto absent = readWorkloadIdentityFiles(dir_ + "/not-mounted");
  ASSERT_TRUE(absent) << absent.error();
  EXPECT_FALSE(absent->has_value());
}

TEST_F(IdentityDirectoryTest, PartialSetNamesTheMissingFile) {
  const StreamCertificates mesh;
  const PemPair pair = mesh.issue(pki::CertificateTemplate::forWorkload(kSpiffeId));
  StreamCertificates::write(dir_ + "/tls.crt", pair.certificatePem);
  StreamCertificates::write(dir_ + "/ca.crt", mesh.caPem());

  auto files = readWorkloadIdentityFiles(dir_);

  ASSERT_FALSE(files);
  EXPECT_THAT(files.error(),
              AllOf(StartsWith(dir_ + "/tls.key: "), HasSubstr("No such file or directory")));
}

TEST_F(IdentityDirectoryTest, CompleteSetIsReadAsWritten) {
  const StreamCertificates mesh;
  const PemPair pair = mesh.issue(pki::CertificateTemplate::forWorkload(kSpiffeId));
  StreamCertificates::write(dir_ + "/tls.crt", pair.certificatePem);
  StreamCertificates::write(dir_ + "/tls.key", pair.keyPem);
  StreamCertificates::write(dir_ + "/ca.crt", mesh.caPem());

  auto files = readWorkloadIdentityFiles(dir_);

  ASSERT_TRUE(files) << files.error();
  ASSERT_TRUE(files->has_value());
  EXPECT_EQ((*files)->certificatePem, pair.certificatePem);
  EXPECT_EQ((*files)->keyPem, pair.keyPem);
  EXPECT_EQ((*files)->trustBundlePem, mesh.caPem());
  EXPECT_TRUE(checkWorkloadIdentity(**files, dir_, std::chrono::system_clock::now()));
}

}  // namespace
}  // namespace meshgate::dp
