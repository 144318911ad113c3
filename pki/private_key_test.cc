// Tests for pki::PrivateKey: generation, PEM round trips, refusals that never echo key material.
#include "pki/private_key.h"

#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace pki {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

template <class T>
T must(Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

std::string traditionalPem(const PrivateKey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey_traditional(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

TEST(PrivateKeyTest, GeneratesEcdsaP256) {
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));
  char group[64];
  std::size_t len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &len), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(key.description(), "EC P-256");
}

TEST(PrivateKeyTest, TwoGeneratedKeysDiffer) {
  const PrivateKey a = must(PrivateKey::generateEcdsaP256());
  const PrivateKey b = must(PrivateKey::generateEcdsaP256());
  EXPECT_FALSE(a.samePublicKey(b));
  EXPECT_NE(a.publicKeyDer(), b.publicKeyDer());
  EXPECT_TRUE(a.samePublicKey(a));
}

TEST(PrivateKeyTest, PemIsUnencryptedPkcs8AndRoundTrips) {
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  const std::string pem = must(key.toPem());
  EXPECT_THAT(pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  const PrivateKey back = must(PrivateKey::fromPem(pem));
  EXPECT_TRUE(back.samePublicKey(key));
  EXPECT_EQ(back.publicKeyDer(), key.publicKeyDer());
  EXPECT_EQ(must(back.toPem()), pem);
}

TEST(PrivateKeyTest, ReadsTraditionalEcPrivateKeyPem) {
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  const std::string sec1 = traditionalPem(key);
  ASSERT_THAT(sec1, StartsWith("-----BEGIN EC PRIVATE KEY-----"));
  EXPECT_TRUE(must(PrivateKey::fromPem(sec1)).samePublicKey(key));
}

TEST(PrivateKeyTest, GarbagePemIsRefusedWithoutQuotingIt) {
  const std::string garbage =
      "-----BEGIN PRIVATE KEY-----\nTk9UIEEgS0VZIFNFQ1JFVC1NQVRFUklBTA==\n-----END PRIVATE "
      "KEY-----\n";
  auto key = PrivateKey::fromPem(garbage);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message, HasSubstr("private key PEM could not be decoded"));
  EXPECT_THAT(key.error().message, Not(HasSubstr("Tk9UIEEgS0VZ")));
  EXPECT_FALSE(PrivateKey::fromPem("").ok());
  EXPECT_FALSE(PrivateKey::fromPem("not pem at all").ok());
}

TEST(PrivateKeyTest, EncryptedPemIsRefusedWithoutPrompting) {
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  BIO* bio = BIO_new(BIO_s_mem());
  const char pass[] = "hunter2";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, key.get(), EVP_aes_256_cbc(), pass, sizeof(pass) - 1,
                                          nullptr, nullptr),
            1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  const std::string encrypted(data, static_cast<std::size_t>(len));
  BIO_free(bio);

  auto loaded = PrivateKey::fromPem(encrypted);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error().message, HasSubstr("encrypted"));
}

TEST(PrivateKeyTest, FailedDecodeLeavesNoOpenSslErrorBehind) {
  ERR_clear_error();
  EXPECT_FALSE(
      PrivateKey::fromPem("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(PrivateKeyTest, CopiesShareTheKey) {
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  const PrivateKey copy = key;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.get(), key.get());
}

}  // namespace
}  // namespace pki
