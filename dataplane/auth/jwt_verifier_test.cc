// verifyJwt and checkTimes: every algorithm verifies, keys are chosen by kid or by fit, claims are
// enforced at their exact edges, and the verified result carries header, claims and times.
#include "dataplane/auth/jwt_verifier.h"

#include <set>

#include <gtest/gtest.h>

#include "dataplane/auth/testing/jwt_forge.h"

namespace meshgate::auth {
namespace {

using nlohmann::json;
using testing::headerJson;
using testing::kAudience;
using testing::kIssuer;
using testing::kNow;
using testing::signToken;
using testing::testKeys;
using testing::testPolicy;
using testing::validClaims;

class JwtVerifierTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JwtVerifierTest, ValidTokenVerifies) {
  const std::string& alg = GetParam();
  const auto result = verifyJwt(testKeys().validToken(alg), *testKeys().set, testPolicy(), kNow);
  ASSERT_TRUE(result.ok()) << name(result.error());
  EXPECT_EQ(result->header["alg"], alg);
  EXPECT_EQ(result->claims["iss"], kIssuer);
  EXPECT_EQ(result->subject, "alice");
  EXPECT_EQ(result->expiresAt, kNow + 600);
  EXPECT_EQ(result->notBefore, kNow - 600);
}

TEST_P(JwtVerifierTest, VerifiesWithoutKidByTryingFittingKeys) {
  const std::string& alg = GetParam();
  const std::string token =
      signToken(alg, testKeys().keyFor(alg), headerJson(alg), validClaims().dump());
  const auto result = verifyJwt(token, *testKeys().set, testPolicy(), kNow);
  ASSERT_TRUE(result.ok()) << name(result.error());
}

TEST_P(JwtVerifierTest, SignatureOfKeyOutsideSetFails) {
  const std::string& alg = GetParam();
  const std::string token =
      signToken(alg, testKeys().otherKeyFor(alg), headerJson(alg, testKeys().kidFor(alg)),
                validClaims().dump());
  const auto result = verifyJwt(token, *testKeys().set, testPolicy(), kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), JwtFailure::BadSignature);
}

TEST_P(JwtVerifierTest, JwkAlgEqualToTokenAlgIsAccepted) {
  const std::string& alg = GetParam();
  const auto set =
      JwkSet::parse(testing::jwks({testing::publicJwk(testKeys().keyFor(alg), "k", alg)}));
  ASSERT_TRUE(set.ok()) << set.error();
  const std::string token =
      signToken(alg, testKeys().keyFor(alg), headerJson(alg, "k"), validClaims().dump());
  EXPECT_TRUE(verifyJwt(token, *set.value(), testPolicy(), kNow).ok());
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwtVerifierTest,
                         ::testing::ValuesIn(testing::allAlgorithms()),
                         [](const auto& info) { return info.param; });

Expected<VerifiedJwt, JwtFailure> verifyClaims(const json& claims, std::int64_t now = kNow,
                                               const JwtPolicy& policy = testPolicy()) {
  return verifyJwt(testKeys().validToken("ES256", claims), *testKeys().set, policy, now);
}

std::optional<JwtFailure> failureOf(const Expected<VerifiedJwt, JwtFailure>& result) {
  if (result.ok()) return std::nullopt;
  return result.error();
}

TEST(JwtClaimsTest, AudienceAsStringOrArray) {
  json claims = validClaims();
  claims["aud"] = kAudience;
  EXPECT_TRUE(verifyClaims(claims).ok());
  claims["aud"] = json::array({"api://else", kAudience});
  EXPECT_TRUE(verifyClaims(claims).ok());
  claims["aud"] = json::array({"api://else"});
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::WrongAudience);
  claims["aud"] = json::array();
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::WrongAudience);
  claims["aud"] = json::array({kAudience, 3});
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::Malformed);
  claims["aud"] = json::object();
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::Malformed);
}

TEST(JwtClaimsTest, AnyPolicyAudienceMatches) {
  json claims = validClaims();
  claims["aud"] = "api://other";
  EXPECT_TRUE(verifyClaims(claims).ok());
  JwtPolicy noAudiences = testPolicy();
  noAudiences.audiences.clear();
  EXPECT_EQ(failureOf(verifyClaims(validClaims(), kNow, noAudiences)), JwtFailure::WrongAudience);
}

TEST(JwtClaimsTest, IssuerMustMatchExactly) {
  json claims = validClaims();
  claims["iss"] = std::string(kIssuer) + "/";
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::WrongIssuer);
  claims["iss"] = json::array({kIssuer});
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::WrongIssuer);
  claims.erase("iss");
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::WrongIssuer);
}

TEST(JwtClaimsTest, ExpiryHonoursSkewAtTheEdge) {
  json claims = validClaims();
  claims["exp"] = kNow - 60;  // expired exactly by the skew: still accepted
  EXPECT_TRUE(verifyClaims(claims).ok());
  claims["exp"] = kNow - 61;
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::Expired);
  JwtPolicy noSkew = testPolicy();
  noSkew.clockSkew = std::chrono::seconds(0);
  claims["exp"] = kNow;
  EXPECT_TRUE(verifyClaims(claims, kNow, noSkew).ok());
  EXPECT_EQ(failureOf(verifyClaims(claims, kNow + 1, noSkew)), JwtFailure::Expired);
}

TEST(JwtClaimsTest, NotBeforeHonoursSkewAtTheEdge) {
  json claims = validClaims();
  claims["nbf"] = kNow + 60;
  EXPECT_TRUE(verifyClaims(claims).ok());
  claims["nbf"] = kNow + 61;
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::NotYetValid);
  claims.erase("nbf");
  const auto result = verifyClaims(claims);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->notBefore.has_value());
}

TEST(JwtClaimsTest, FloatingDatesAreTruncated) {
  json claims = validClaims();
  claims["exp"] = static_cast<double>(kNow - 60) + 0.999;
  const auto result = verifyClaims(claims);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->expiresAt, kNow - 60);
  EXPECT_EQ(failureOf(verifyClaims(claims, kNow + 1)), JwtFailure::Expired);
}

TEST(JwtClaimsTest, ExtremeDatesDoNotOverflow) {
  json claims = validClaims();
  claims["exp"] = std::numeric_limits<std::uint64_t>::max();
  auto result = verifyClaims(claims);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->expiresAt, std::numeric_limits<std::int64_t>::max());
  claims["exp"] = 1e300;
  EXPECT_TRUE(verifyClaims(claims).ok());
  claims["exp"] = -1e300;
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::Expired);
  claims["exp"] = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::Expired);
  claims["exp"] = kNow + 600;
  claims["nbf"] = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::NotYetValid);
}

TEST(JwtClaimsTest, SubjectOnlyWhenString) {
  json claims = validClaims();
  claims["sub"] = 12;
  const auto result = verifyClaims(claims);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->subject, "");
  EXPECT_EQ(result->claims["sub"], 12);
}

TEST(JwtClaimsTest, NbfOfWrongTypeIsMalformed) {
  json claims = validClaims();
  claims["nbf"] = "yesterday";
  EXPECT_EQ(failureOf(verifyClaims(claims)), JwtFailure::Malformed);
}

TEST(CheckTimesTest, ChecksExpiryAndNotBeforeWithSkew) {
  VerifiedJwt jwt;
  jwt.expiresAt = 1000;
  const JwtPolicy policy = testPolicy();
  EXPECT_EQ(checkTimes(jwt, policy, 1060), std::nullopt);
  EXPECT_EQ(checkTimes(jwt, policy, 1061), JwtFailure::Expired);
  jwt.notBefore = 500;
  EXPECT_EQ(checkTimes(jwt, policy, 440), std::nullopt);
  EXPECT_EQ(checkTimes(jwt, policy, 439), JwtFailure::NotYetValid);
}

TEST(CheckTimesTest, NegativeSkewCountsAsZero) {
  VerifiedJwt jwt;
  jwt.expiresAt = 1000;
  JwtPolicy policy = testPolicy();
  policy.clockSkew = std::chrono::seconds(-100);
  EXPECT_EQ(checkTimes(jwt, policy, 1000), std::nullopt);
  EXPECT_EQ(checkTimes(jwt, policy, 1001), JwtFailure::Expired);
}

TEST(KeyChoiceTest, WithoutKidTriesEveryFittingKey) {
  // Two RSA keys without kid: a token of either verifies.
  const auto set = JwkSet::parse(testing::jwks(
      {testing::publicJwk(testKeys().otherRsa.get()), testing::publicJwk(testKeys().rsa.get())}));
  ASSERT_TRUE(set.ok()) << set.error();
  for (EVP_PKEY* key : {testKeys().rsa.get(), testKeys().otherRsa.get()}) {
    const std::string token = signToken("PS384", key, headerJson("PS384"), validClaims().dump());
    EXPECT_TRUE(verifyJwt(token, *set.value(), testPolicy(), kNow).ok());
  }
}

TEST(KeyChoiceTest, WithoutKidSkipsKeysWhoseAlgDiffers) {
  const auto set =
      JwkSet::parse(testing::jwks({testing::publicJwk(testKeys().rsa.get(), "", "RS256")}));
  ASSERT_TRUE(set.ok()) << set.error();
  const std::string token =
      signToken("PS256", testKeys().rsa.get(), headerJson("PS256"), validClaims().dump());
  const auto result = verifyJwt(token, *set.value(), testPolicy(), kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), JwtFailure::UnknownKey);
}

TEST(KeyChoiceTest, KidOfKeyWithoutKidIsUnknown) {
  const auto set = JwkSet::parse(testing::jwks({testing::publicJwk(testKeys().rsa.get())}));
  ASSERT_TRUE(set.ok());
  const std::string token =
      signToken("RS256", testKeys().rsa.get(), headerJson("RS256", "rsa"), validClaims().dump());
  EXPECT_EQ(failureOf(verifyJwt(token, *set.value(), testPolicy(), kNow)), JwtFailure::UnknownKey);
}

TEST(KeyChoiceTest, NoFittingKeyWithoutKidIsUnknownKey) {
  const auto set = JwkSet::parse(testing::jwks({testing::publicJwk(testKeys().rsa.get())}));
  ASSERT_TRUE(set.ok());
  const std::string token =
      signToken("ES256", testKeys().ec256.get(), headerJson("ES256"), validClaims().dump());
  EXPECT_EQ(failureOf(verifyJwt(token, *set.value(), testPolicy(), kNow)), JwtFailure::UnknownKey);
}

TEST(JwtFailureTest, NamesAndDescriptionsAreDistinctAndNonEmpty) {
  std::set<std::string_view> names;
  std::set<std::string_view> descriptions;
  for (int i = 0; i <= static_cast<int>(JwtFailure::WrongAudience); ++i) {
    const auto failure = static_cast<JwtFailure>(i);
    EXPECT_FALSE(name(failure).empty());
    EXPECT_EQ(name(failure).find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos);
    EXPECT_EQ(describe(failure).find('"'), std::string::npos);
    names.insert(name(failure));
    descriptions.insert(describe(failure));
  }
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(descriptions.size(), 12u);
  EXPECT_EQ(name(JwtFailure::TooLarge), "too_large");
  EXPECT_EQ(describe(JwtFailure::Expired), "token expired");
  EXPECT_EQ(describe(JwtFailure::BadSignature), "signature verification failed");
  EXPECT_EQ(describe(JwtFailure::UnknownKey), "unknown signing key");
  EXPECT_EQ(describe(JwtFailure::Malformed), "malformed token");
}

TEST(JwtVerifierSizeTest, TokenAtLimitIsCheckedAndOverLimitIsTooLarge) {
  const std::string token = testKeys().validToken("EdDSA");
  JwtPolicy policy = testPolicy();
  policy.maxTokenBytes = token.size();
  EXPECT_TRUE(verifyJwt(token, *testKeys().set, policy, kNow).ok());
  policy.maxTokenBytes = token.size() - 1;
  EXPECT_EQ(failureOf(verifyJwt(token, *testKeys().set, policy, kNow)), JwtFailure::TooLarge);
}

}  // namespace
}  // namespace meshgate::auth
