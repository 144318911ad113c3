// ServingCertificate against real files: what load() accepts and refuses, reload() keeping the
// previous pair on a bad one, and watch() noticing rotations by inotify and by its poll.
#include "webhook/server/serving_certificate.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>

#include "base/testing/eventually.h"
#include "webhook/server/testing/certificate_directory.h"

namespace meshgate::webhook {
namespace {

using meshgate::testing::eventually;
using testing::CertificateDirectory;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

ServingCertificatePtr mustLoad(const std::string& directory) {
  auto loaded = ServingCertificate::load(directory);
  if (!loaded) ADD_FAILURE() << loaded.error();
  return loaded ? std::move(loaded).value() : nullptr;
}

// A certificate watched on an io_context thread of its own. Torn down in the order the header
// asks for: the thread stopped, then the certificate destroyed, then its io_context.
class WatchedCertificate {
 public:
  WatchedCertificate(const std::string& directory, std::chrono::milliseconds pollInterval)
      : certificate_(mustLoad(directory)) {
    if (certificate_) certificate_->watch(ioc_, pollInterval);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~WatchedCertificate() {
    work_.reset();
    ioc_.stop();
    thread_.join();
    certificate_.reset();
  }
  ServingCertificate* operator->() { return certificate_.get(); }
  explicit operator bool() const { return certificate_ != nullptr; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      ioc_.get_executor()};
  ServingCertificatePtr certificate_;
  std::thread thread_;
};

TEST(ServingCertificateTest, LoadsTheLeafAndReportsItsIdentity) {
  CertificateDirectory directory;
  auto certificate = mustLoad(directory.path());
  ASSERT_TRUE(certificate);
  const auto& leaf = directory.written().certificate;
  EXPECT_EQ(certificate->notAfter(), leaf.notAfter());
  EXPECT_EQ(certificate->info().serialHex, leaf.serialHex());
  EXPECT_EQ(certificate->info().sha256Fingerprint, leaf.sha256Fingerprint());
  EXPECT_NE(certificate->current(), nullptr);
}

TEST(ServingCertificateTest, ChainAfterTheLeafIsSentAlongWithIt) {
  CertificateDirectory directory;
  directory.writeCertificate(directory.written().certificatePem + directory.caPem());
  auto certificate = mustLoad(directory.path());
  ASSERT_TRUE(certificate);
  EXPECT_EQ(certificate->info().serialHex, directory.written().certificate.serialHex());
  STACK_OF(X509)* chain = nullptr;
  ASSERT_EQ(SSL_CTX_get0_chain_certs(certificate->current()->native_handle(), &chain), 1);
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(sk_X509_num(chain), 1);
}

TEST(ServingCertificateTest, LoadOfAMissingDirectoryNamesTheFile) {
  auto loaded = ServingCertificate::load("/nonexistent/meshgate-certs");
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error(), HasSubstr("/nonexistent/meshgate-certs/tls.crt"));
  EXPECT_THAT(loaded.error(), HasSubstr("No such file"));
}

TEST(ServingCertificateTest, LoadOfAMissingKeyNamesTheKeyFile) {
  CertificateDirectory directory;
  std::filesystem::remove(std::filesystem::path(directory.path()) / "tls.key");
  auto loaded = ServingCertificate::load(directory.path());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error(), HasSubstr(directory.path() + "/tls.key"));
}

TEST(ServingCertificateTest, LoadRefusesAKeyThatIsNotTheCertificates) {
  CertificateDirectory directory;
  directory.writeKey(directory.issue().keyPem);
  auto loaded = ServingCertificate::load(directory.path());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error(), HasSubstr("tls.key: the key does not belong"));
}

TEST(ServingCertificateTest, LoadRefusesAnExpiredCertificate) {
  CertificateDirectory directory;
  directory.write(directory.issue(1h, std::chrono::system_clock::now() - 2h));
  auto loaded = ServingCertificate::load(directory.path());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error(), HasSubstr("expired at"));
}

TEST(ServingCertificateTest, UndecodableKeyIsRefusedWithoutQuotingIt) {
  CertificateDirectory directory;
  directory.writeKey(
      "-----BEGIN PRIVATE KEY-----\nTOPSECRETTOPSECRET\n-----END PRIVATE KEY-----\n");
  auto loaded = ServingCertificate::load(directory.path());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error(), HasSubstr("tls.key"));
  EXPECT_THAT(loaded.error(), Not(HasSubstr("TOPSECRET")));
}

TEST(ServingCertificateTest, ReloadServesTheNewPairWhileHandedOutContextsStayValid) {
  CertificateDirectory directory;
  auto certificate = mustLoad(directory.path());
  ASSERT_TRUE(certificate);
  const auto before = certificate->current();
  const auto first = directory.written();

  const auto next = directory.issue();
  directory.write(next);
  auto reloaded = certificate->reload();
  ASSERT_TRUE(reloaded) << reloaded.error();

  EXPECT_EQ(certificate->info().serialHex, next.certificate.serialHex());
  EXPECT_NE(certificate->current(), before);
  // The connections holding the old context keep presenting the old certificate.
  EXPECT_EQ(X509_cmp(SSL_CTX_get0_certificate(before->native_handle()), first.certificate.get()),
            0);
}

TEST(ServingCertificateTest, HalfWrittenRotationIsRefusedAndThePreviousPairKeepsServing) {
  CertificateDirectory directory;
  auto certificate = mustLoad(directory.path());
  ASSERT_TRUE(certificate);
  const auto servedContext = certificate->current();
  const std::string servedSerial = certificate->info().serialHex;

  // The operator has written the new certificate but not yet its key.
  const auto next = directory.issue();
  directory.writeCertificate(next.certificatePem);
  auto refused = certificate->reload();
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error(), HasSubstr("the key does not belong"));
  EXPECT_EQ(certificate->current(), servedContext);
  EXPECT_EQ(certificate->info().serialHex, servedSerial);

  directory.writeKey(next.keyPem);
  auto completed = certificate->reload();
  ASSERT_TRUE(completed) << completed.error();
  EXPECT_EQ(certificate->info().serialHex, next.certificate.serialHex());
}

TEST(ServingCertificateTest, WatchReloadsWhenASecretVolumeSwapsItsDataLink) {
  CertificateDirectory directory(CertificateDirectory::Layout::kSecretVolume);
  // A poll too slow to matter here: the reload must come from inotify.
  WatchedCertificate certificate(directory.path(), 1h);
  ASSERT_TRUE(certificate);

  const auto next = directory.issue();
  directory.write(next);
  EXPECT_TRUE(
      eventually([&] { return certificate->info().serialHex == next.certificate.serialHex(); }));
}

TEST(ServingCertificateTest, PollReloadsAChangeInotifyDidNotReport) {
  CertificateDirectory directory;
  WatchedCertificate certificate(directory.path(), 50ms);
  ASSERT_TRUE(certificate);

  // Writing through descriptors that stay open raises no event the watcher listens to (it waits
  // for close-after-write, renames, creations and deletions), as a missed event would.
  const auto next = directory.issue();
  const auto rewrite = [&](const char* name, const std::string& content) {
    const std::string path = directory.path() + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
    EXPECT_GE(fd, 0) << path;
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    return fd;
  };
  const int certificateFd = rewrite("tls.crt", next.certificatePem);
  const int keyFd = rewrite("tls.key", next.keyPem);

  EXPECT_TRUE(
      eventually([&] { return certificate->info().serialHex == next.certificate.serialHex(); }));
  ::close(certificateFd);
  ::close(keyFd);
}

}  // namespace
}  // namespace meshgate::webhook
