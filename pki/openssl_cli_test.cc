// Cross-checks pki/ against the `openssl` command line, the tool an admin reaches for: it must
// accept what pki/ issues and agree with verifyChain(), and pki/ must accept CAs it made.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include "pki/certificate_authority.h"
#include "pki/trust_bundle.h"

namespace pki {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

const TimePoint kNow = std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};
constexpr char kSpiffeId[] = "spiffe://cluster.local/ns/shop/sa/orders";

template <class T>
T must(Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

struct CommandResult {
  int exitCode;
  std::string output;  // stdout and stderr
};

CommandResult run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::string output;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof(buf), pipe))
    output.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A private directory for the files the CLI reads, removed afterwards.
class OpensslCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "pki-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path) << content;
    return path.string();
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // `openssl verify` at time t; returns "" for OK, else its output.
  std::string cliVerify(const std::string& caPem, const Certificate& leaf, TimePoint t) {
    const std::string ca = write("ca.pem", caPem);
    const std::string leafFile = write("leaf.pem", leaf.toPem());
    const auto epoch = std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
    const CommandResult r =
        run("openssl verify -attime " + std::to_string(epoch) + " -CAfile " + ca + " " + leafFile);
    if (r.exitCode == 0) {
      EXPECT_THAT(r.output, HasSubstr(": OK"));
      return {};
    }
    return r.output.empty() ? "failed without output" : r.output;
  }

  // Both say OK, or both fail with the same OpenSSL reason.
  void expectAgreement(const std::string& caPem, const Certificate& leaf, TimePoint t) {
    const std::string ours = verifyChain(leaf, caPem, t);
    const std::string cli = cliVerify(caPem, leaf, t);
    EXPECT_EQ(ours.empty(), cli.empty()) << "ours: " << ours << "\ncli: " << cli;
    if (!ours.empty()) {
      EXPECT_THAT(cli, HasSubstr(ours.substr(0, ours.find(" (depth"))));
    }
  }

  std::filesystem::path dir_;
};

TEST_F(OpensslCliTest, VerifyAgreesWithTheCommandLine) {
  const auto ca = must(CertificateAuthority::generate("meshgate-ca", kNow));
  const auto other = must(CertificateAuthority::generate("other-ca", kNow));
  const Certificate leaf = must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId),
                                         must(PrivateKey::generateEcdsaP256()), kNow));
  expectAgreement(ca.certificatePem(), leaf, kNow);                   // OK
  expectAgreement(other.certificatePem(), leaf, kNow);                // unknown issuer
  expectAgreement(ca.certificatePem(), leaf, leaf.notAfter() + 1s);   // expired
  expectAgreement(ca.certificatePem(), leaf, leaf.notBefore() - 1h);  // not yet valid
  const std::string bundle = must(buildTrustBundle({other.certificate(), ca.certificate()}, kNow));
  expectAgreement(bundle, leaf, kNow);  // OK through a bundle
  EXPECT_THAT(cliVerify(ca.certificatePem(), leaf, kNow), IsEmpty());
}

TEST_F(OpensslCliTest, CommandLineReadsTheNamesAndFingerprintWeWrote) {
  const auto ca = must(CertificateAuthority::generate("meshgate-ca", kNow));
  const Certificate leaf =
      must(ca.issue(CertificateTemplate::forHosts({"api.example.com", "10.0.0.7"}),
                    must(PrivateKey::generateEcdsaP256()), kNow));
  const std::string file = write("leaf.pem", leaf.toPem());
  const CommandResult text = run("openssl x509 -noout -text -in " + file);
  ASSERT_EQ(text.exitCode, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("DNS:api.example.com, IP Address:10.0.0.7"));
  EXPECT_THAT(text.output, HasSubstr("CA:FALSE"));
  EXPECT_THAT(text.output, HasSubstr("TLS Web Server Authentication"));
  EXPECT_THAT(text.output, HasSubstr("Issuer: CN = meshgate-ca"));

  const CommandResult serial = run("openssl x509 -noout -serial -in " + file);
  EXPECT_EQ(serial.output, "serial=" + leaf.serialHex() + "\n");

  const CommandResult fingerprint = run("openssl x509 -noout -fingerprint -sha256 -in " + file);
  std::string hex;
  for (char c : fingerprint.output.substr(fingerprint.output.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(c));
  }
  EXPECT_EQ(hex, leaf.sha256Fingerprint());
}

TEST_F(OpensslCliTest, CommandLineReadsTheKeyWeWrote) {
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  const std::string file = write("key.pem", must(key.toPem()));
  const CommandResult r = run("openssl pkey -noout -text -in " + file);
  ASSERT_EQ(r.exitCode, 0) << "openssl pkey failed";  // never print the key itself
  EXPECT_THAT(r.output, HasSubstr("ASN1 OID: prime256v1"));
}

TEST_F(OpensslCliTest, LoadsAndIssuesFromAnRsaCaMadeByTheCommandLine) {
  const CommandResult made =
      run("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=corp-root -days 30 "
          "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
          "-keyout " +
          path("ca.key") + " -out " + path("ca.crt"));
  ASSERT_EQ(made.exitCode, 0) << made.output;
  const auto now = std::chrono::system_clock::now();
  const auto ca = must(CertificateAuthority::load(read("ca.crt"), read("ca.key"), now));
  EXPECT_EQ(ca.certificate().subjectCommonName(), "corp-root");
  const Certificate leaf = must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId),
                                         must(PrivateKey::generateEcdsaP256()), now));
  EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_sha256WithRSAEncryption);
  EXPECT_THAT(cliVerify(read("ca.crt"), leaf, now), IsEmpty());
  EXPECT_THAT(verifyChain(leaf, read("ca.crt"), now), IsEmpty());
}

TEST_F(OpensslCliTest, LoadsACaWhoseKeyIsInTraditionalEcForm) {
  ASSERT_EQ(run("openssl ecparam -genkey -name prime256v1 -noout -out " + path("ca.key")).exitCode,
            0);
  ASSERT_THAT(read("ca.key"), HasSubstr("BEGIN EC PRIVATE KEY"));
  const CommandResult made =
      run("openssl req -x509 -key " + path("ca.key") +
          " -subj /CN=ec-root -days 30 -addext basicConstraints=critical,CA:TRUE -out " +
          path("ca.crt"));
  ASSERT_EQ(made.exitCode, 0) << made.output;
  const auto now = std::chrono::system_clock::now();
  const auto ca = must(CertificateAuthority::load(read("ca.crt"), read("ca.key"), now));
  const Certificate leaf = must(ca.issue(CertificateTemplate::forHosts({"a.example"}),
                                         must(PrivateKey::generateEcdsaP256()), now));
  EXPECT_THAT(cliVerify(read("ca.crt"), leaf, now), IsEmpty());
}

TEST_F(OpensslCliTest, RefusesACommandLineCertificateWithoutCaTrue) {
  const CommandResult made =
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=not-a-ca "
          "-days 30 -addext basicConstraints=critical,CA:FALSE -keyout " +
          path("ca.key") + " -out " + path("ca.crt"));
  ASSERT_EQ(made.exitCode, 0) << made.output;
  auto ca =
      CertificateAuthority::load(read("ca.crt"), read("ca.key"), std::chrono::system_clock::now());
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(ca.error().message, HasSubstr("\"not-a-ca\" is not a CA"));
}

}  // namespace
}  // namespace pki
