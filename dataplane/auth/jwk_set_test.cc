// JwkSet::parse: which keys are usable, which are skipped, which make the whole set an error —
// and that errors name the key index but never its material.
#include "dataplane/auth/jwk_set.h"

#include <gtest/gtest.h>

#include "dataplane/auth/base64url.h"
#include "dataplane/auth/testing/jwt_forge.h"

namespace meshgate::auth {
namespace {

using nlohmann::json;
using testing::jwks;
using testing::publicJwk;
using testing::testKeys;

json rsaJwk(std::string_view kid = "rsa") {
  return publicJwk(testKeys().rsa.get(), kid);
}
json ec256Jwk(std::string_view kid = "ec256") {
  return publicJwk(testKeys().ec256.get(), kid);
}

Expected<std::shared_ptr<const JwkSet>, std::string> parseKeys(std::vector<json> keys) {
  return JwkSet::parse(jwks(keys));
}

TEST(JwkSetTest, ParsesOneKeyOfEachKind) {
  const auto set = JwkSet::parse(testKeys().jwksJson);
  ASSERT_TRUE(set.ok()) << set.error();
  const auto& keys = set.value()->keys();
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0].type, JwkType::Rsa);
  EXPECT_EQ(keys[0].curve, "");
  EXPECT_EQ(keys[1].type, JwkType::Ec);
  EXPECT_EQ(keys[1].curve, "P-256");
  EXPECT_EQ(keys[2].curve, "P-384");
  EXPECT_EQ(keys[3].type, JwkType::Okp);
  EXPECT_EQ(keys[3].curve, "Ed25519");
  for (const Jwk& jwk : keys) {
    ASSERT_NE(jwk.key, nullptr);
    EXPECT_FALSE(jwk.alg.has_value());
  }
  // The imported public keys are the generated ones.
  EXPECT_EQ(EVP_PKEY_eq(keys[0].key.get(), testKeys().rsa.get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(keys[1].key.get(), testKeys().ec256.get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(keys[2].key.get(), testKeys().ec384.get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(keys[3].key.get(), testKeys().ed25519.get()), 1);
}

TEST(JwkSetTest, FindsByKid) {
  const auto set = JwkSet::parse(testKeys().jwksJson);
  ASSERT_TRUE(set.ok());
  ASSERT_NE(set.value()->find("ec384"), nullptr);
  EXPECT_EQ(set.value()->find("ec384")->curve, "P-384");
  EXPECT_EQ(set.value()->find("nope"), nullptr);
  EXPECT_EQ(set.value()->find(""), nullptr);
}

TEST(JwkSetTest, KeysWithoutKidAreKeptButNotFoundByEmptyKid) {
  const auto set = parseKeys({rsaJwk(""), ec256Jwk("")});
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set.value()->keys().size(), 2u);
  EXPECT_EQ(set.value()->keys()[0].kid, "");
  EXPECT_EQ(set.value()->find(""), nullptr);
}

TEST(JwkSetTest, KeepsAlg) {
  json key = rsaJwk();
  key["alg"] = "PS256";
  const auto set = parseKeys({key});
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set.value()->keys()[0].alg, "PS256");
}

TEST(JwkSetTest, SkipsKeysNotForSignatures) {
  json enc = rsaJwk("enc");
  enc["use"] = "enc";
  json sig = ec256Jwk("sig");
  sig["use"] = "sig";
  json wrapOnly = rsaJwk("wrap");
  wrapOnly["key_ops"] = {"wrapKey"};
  json verify = rsaJwk("verify");
  verify["key_ops"] = {"sign", "verify"};
  const auto set = parseKeys({enc, sig, wrapOnly, verify});
  ASSERT_TRUE(set.ok()) << set.error();
  ASSERT_EQ(set.value()->keys().size(), 2u);
  EXPECT_EQ(set.value()->keys()[0].kid, "sig");
  EXPECT_EQ(set.value()->keys()[1].kid, "verify");
}

TEST(JwkSetTest, SkipsSymmetricKeys) {
  const json oct{{"kty", "oct"}, {"kid", "hmac"}, {"k", base64UrlEncode("secret")}};
  const auto set = parseKeys({oct, rsaJwk()});
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set.value()->keys().size(), 1u);
  EXPECT_EQ(set.value()->find("hmac"), nullptr);
}

TEST(JwkSetTest, SkipsUnknownKtyAndCurves) {
  json p521{{"kty", "EC"}, {"crv", "P-521"}, {"x", "AA"}, {"y", "AA"}};
  json x25519{{"kty", "OKP"}, {"crv", "X25519"}, {"x", "AA"}};
  json ed448{{"kty", "OKP"}, {"crv", "Ed448"}, {"x", "AA"}};
  json unknown{{"kty", "PQC"}, {"x", "AA"}};
  const auto set = parseKeys({p521, x25519, ed448, unknown, rsaJwk()});
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set.value()->keys().size(), 1u);
}

TEST(JwkSetTest, SkipsRsaUnder2048Bits) {
  const auto small = testing::generateRsaKey(1024);
  const auto onlySmall = parseKeys({publicJwk(small.get(), "small")});
  ASSERT_FALSE(onlySmall.ok());
  EXPECT_EQ(onlySmall.error(), "JWKS: no usable signing key");
  const auto mixed = parseKeys({publicJwk(small.get(), "small"), rsaJwk()});
  ASSERT_TRUE(mixed.ok()) << mixed.error();
  ASSERT_EQ(mixed.value()->keys().size(), 1u);
  EXPECT_EQ(mixed.value()->keys()[0].kid, "rsa");
}

TEST(JwkSetTest, ToleratesLeadingZeroOctetOnModulus) {
  json key = rsaJwk();
  key["n"] = base64UrlEncode(std::string(1, '\0') + *base64UrlDecode(key["n"].get<std::string>()));
  const auto set = parseKeys({key});
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(EVP_PKEY_eq(set.value()->keys()[0].key.get(), testKeys().rsa.get()), 1);
}

TEST(JwkSetTest, ZeroUsableKeysIsAnError) {
  EXPECT_FALSE(JwkSet::parse(R"({"keys": []})").ok());
  json enc = rsaJwk();
  enc["use"] = "enc";
  EXPECT_FALSE(parseKeys({enc}).ok());
}

TEST(JwkSetTest, RejectsDocumentsThatAreNotKeySets) {
  EXPECT_EQ(JwkSet::parse("").error().substr(0, 6), "JWKS: ");
  EXPECT_FALSE(JwkSet::parse("[]").ok());
  EXPECT_FALSE(JwkSet::parse(R"({"keys": {}})").ok());
  EXPECT_FALSE(JwkSet::parse(R"({"key": []})").ok());
  EXPECT_FALSE(JwkSet::parse(R"({"keys": [1]})").ok());
}

TEST(JwkSetTest, DuplicateMemberInDocumentIsAnError) {
  const std::string text = jwks({rsaJwk()});
  // {"keys":[...],"keys":[]} — a lax parser would keep only the last array.
  const auto set = JwkSet::parse(text.substr(0, text.size() - 1) + R"(,"keys":[]})");
  EXPECT_FALSE(set.ok());
}

TEST(JwkSetTest, DuplicateKidIsAnError) {
  const auto set = parseKeys({rsaJwk("same"), ec256Jwk("same")});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error(), "JWKS key 1: duplicate \"kid\"");
}

TEST(JwkSetTest, MalformedBase64IsAnErrorNamingTheIndex) {
  json key = rsaJwk();
  key["n"] = key["n"].get<std::string>() + "=";
  const auto set = parseKeys({ec256Jwk(), key});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error(), "JWKS key 1: RSA \"n\" is not base64url");
}

TEST(JwkSetTest, ErrorsNeverQuoteKeyMaterial) {
  json key = rsaJwk();
  const std::string modulus = key["n"].get<std::string>();
  key["n"] = modulus.substr(0, 40) + "!" + modulus.substr(40);
  const auto set = parseKeys({key});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().find(modulus.substr(0, 12)), std::string::npos);
  EXPECT_NE(set.error().find("key 0"), std::string::npos);
}

TEST(JwkSetTest, RsaMissingOrBadParametersAreErrors) {
  json noE = rsaJwk();
  noE.erase("e");
  EXPECT_EQ(parseKeys({noE}).error(), "JWKS key 0: RSA missing \"e\"");
  json exponentOne = rsaJwk();
  exponentOne["e"] = base64UrlEncode("\x01");
  EXPECT_EQ(parseKeys({exponentOne}).error(), "JWKS key 0: RSA exponent out of range");
  json evenExponent = rsaJwk();
  evenExponent["e"] = base64UrlEncode(std::string("\x01\x00\x00", 3));
  EXPECT_FALSE(parseKeys({evenExponent}).ok());
  json evenModulus = rsaJwk();
  std::string n = *base64UrlDecode(evenModulus["n"].get<std::string>());
  n.back() = static_cast<char>(n.back() & ~1);
  evenModulus["n"] = base64UrlEncode(n);
  EXPECT_EQ(parseKeys({evenModulus}).error(), "JWKS key 0: RSA modulus is not odd");
}

TEST(JwkSetTest, EcCoordinateOfWrongLengthIsAnError) {
  json key = ec256Jwk();
  key["x"] = base64UrlEncode(std::string(1, '\0') + *base64UrlDecode(key["x"].get<std::string>()));
  EXPECT_EQ(parseKeys({key}).error(), "JWKS key 0: EC coordinate of wrong length");
  // A P-384 key labelled P-256 has 48-byte coordinates.
  json mislabelled = publicJwk(testKeys().ec384.get(), "k");
  mislabelled["crv"] = "P-256";
  EXPECT_FALSE(parseKeys({mislabelled}).ok());
}

TEST(JwkSetTest, EcPointNotOnCurveIsAnError) {
  json key = ec256Jwk();
  std::string y = *base64UrlDecode(key["y"].get<std::string>());
  y.back() = static_cast<char>(y.back() ^ 1);
  key["y"] = base64UrlEncode(y);
  const auto set = parseKeys({key});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error(), "JWKS key 0: EC point not on curve");
  // Coordinates at or above the field prime are no point either.
  json big = ec256Jwk();
  big["x"] = base64UrlEncode(std::string(32, '\xff'));
  EXPECT_FALSE(parseKeys({big}).ok());
}

TEST(JwkSetTest, Ed25519KeyOfWrongLengthIsAnError) {
  json key = publicJwk(testKeys().ed25519.get(), "ed");
  key["x"] = base64UrlEncode(std::string(31, 'a'));
  EXPECT_EQ(parseKeys({key}).error(), "JWKS key 0: Ed25519 key of wrong length");
}

TEST(JwkSetTest, WrongMemberTypesAreErrors) {
  json kid = rsaJwk();
  kid["kid"] = 7;
  EXPECT_FALSE(parseKeys({kid}).ok());
  json alg = rsaJwk();
  alg["alg"] = json::array({"RS256"});
  EXPECT_FALSE(parseKeys({alg}).ok());
  json use = rsaJwk();
  use["use"] = true;
  EXPECT_FALSE(parseKeys({use}).ok());
  json noKty = rsaJwk();
  noKty.erase("kty");
  EXPECT_EQ(parseKeys({noKty}).error(), "JWKS key 0: missing \"kty\"");
  json noCrv = ec256Jwk();
  noCrv.erase("crv");
  EXPECT_FALSE(parseKeys({noCrv}).ok());
}

}  // namespace
}  // namespace meshgate::auth
