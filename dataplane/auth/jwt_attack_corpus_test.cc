// The JWT attack corpus: known ways to forge or confuse a JWT verifier (alg none, HMAC with the
// public key, key/algorithm confusion, signature encodings, JSON parser differentials, claim
// games), each with the exact JwtFailure verifyJwt must report.
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/auth/jwt_verifier.h"
#include "dataplane/auth/testing/jwt_forge.h"

namespace meshgate::auth {
namespace {

using nlohmann::json;
using testing::compact;
using testing::headerJson;
using testing::kNow;
using testing::signBytes;
using testing::signingInput;
using testing::signToken;
using testing::testKeys;
using testing::validClaims;

struct AttackCase {
  std::string name;
  std::string token;
  JwtFailure expected;
  std::shared_ptr<const JwkSet> keys;  // testKeys().set when null
};

struct Parts {
  std::string header, payload, signature;
  std::string join() const { return header + "." + payload + "." + signature; }
};

Parts split(const std::string& token) {
  const size_t a = token.find('.');
  const size_t b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

std::string claimsWith(const char* member, const json& value) {
  json claims = validClaims();
  claims[member] = value;
  return claims.dump();
}

std::string claimsWithout(const char* member) {
  json claims = validClaims();
  claims.erase(member);
  return claims.dump();
}

// validClaims() as text with one more raw member spliced in before the closing brace.
std::string claimsPlusRaw(std::string_view raw) {
  std::string text = validClaims().dump();
  text.pop_back();
  return text + "," + std::string(raw) + "}";
}

std::string signedRs256(std::string_view header, std::string_view payload) {
  return signToken("RS256", testKeys().rsa.get(), header, payload);
}

std::vector<AttackCase> attackCorpus() {
  const auto& keys = testKeys();
  const std::string claims = validClaims().dump();
  const std::string rsaHeader = headerJson("RS256", "rsa");
  std::vector<AttackCase> corpus;
  auto add = [&](std::string name, std::string token, JwtFailure expected,
                 std::shared_ptr<const JwkSet> set = nullptr) {
    corpus.push_back({std::move(name), std::move(token), expected, std::move(set)});
  };

  // alg "none" and HMAC: never accepted, whatever the secret.
  add("alg none without signature", compact(R"({"alg":"none"})", claims, ""),
      JwtFailure::Malformed);
  add("alg none with signature", compact(R"({"alg":"none"})", claims, "sig"),
      JwtFailure::UnsupportedAlgorithm);
  add("alg None capitalised", compact(R"({"alg":"None","kid":"rsa"})", claims, "sig"),
      JwtFailure::UnsupportedAlgorithm);
  for (const char* hs : {"HS256", "HS384", "HS512"}) {
    const std::string header = headerJson(hs, "rsa");
    add(std::string(hs) + " with RSA public key PEM as secret",
        compact(header, claims,
                testing::hmacBytes(hs, testing::publicKeyPem(keys.rsa.get()),
                                   signingInput(header, claims))),
        JwtFailure::UnsupportedAlgorithm);
  }
  {
    const std::string header = headerJson("HS256");
    add("HS256 with RSA public key DER as secret, no kid",
        compact(header, claims,
                testing::hmacBytes("HS256", testing::publicKeyDer(keys.rsa.get()),
                                   signingInput(header, claims))),
        JwtFailure::UnsupportedAlgorithm);
    const std::string ecHeader = headerJson("HS256", "ec256");
    add("HS256 with EC public key PEM as secret",
        compact(ecHeader, claims,
                testing::hmacBytes("HS256", testing::publicKeyPem(keys.ec256.get()),
                                   signingInput(ecHeader, claims))),
        JwtFailure::UnsupportedAlgorithm);
  }
  add("alg with trailing NUL", signedRs256(R"({"alg":"RS256\u0000","kid":"rsa"})", claims),
      JwtFailure::UnsupportedAlgorithm);
  add("alg ES512 (P-521 unsupported)", compact(headerJson("ES512", "ec256"), claims, "sig"),
      JwtFailure::UnsupportedAlgorithm);

  // Key and algorithm confusion.
  add("RS256 with EC kid",
      compact(
          headerJson("RS256", "ec256"), claims,
          signBytes("ES256", keys.ec256.get(), signingInput(headerJson("RS256", "ec256"), claims))),
      JwtFailure::KeyMismatch);
  add("ES256 with P-384 key",
      signToken("ES256", keys.ec256.get(), headerJson("ES256", "ec384"), claims),
      JwtFailure::KeyMismatch);
  add("ES384 with P-256 key",
      signToken("ES384", keys.ec384.get(), headerJson("ES384", "ec256"), claims),
      JwtFailure::KeyMismatch);
  add("EdDSA with RSA key",
      signToken("EdDSA", keys.ed25519.get(), headerJson("EdDSA", "rsa"), claims),
      JwtFailure::KeyMismatch);
  add("PS256 with Ed25519 key",
      signToken("PS256", keys.rsa.get(), headerJson("PS256", "ed25519"), claims),
      JwtFailure::KeyMismatch);
  {
    // The JWK pins RS256; a PS256 token under the same kid must not be tried.
    const auto pinned = testing::TestKeys::parseOrThrow(
        testing::jwks({testing::publicJwk(keys.rsa.get(), "rsa", "RS256")}));
    add("JWK alg mismatch", signToken("PS256", keys.rsa.get(), headerJson("PS256", "rsa"), claims),
        JwtFailure::KeyMismatch, pinned);
  }
  add("RS256 signature presented as PS256",
      compact(headerJson("PS256", "rsa"), claims,
              signBytes("RS256", keys.rsa.get(), signingInput(headerJson("PS256", "rsa"), claims))),
      JwtFailure::BadSignature);
  add("RS256 signature presented as RS512",
      compact(headerJson("RS512", "rsa"), claims,
              signBytes("RS256", keys.rsa.get(), signingInput(headerJson("RS512", "rsa"), claims))),
      JwtFailure::BadSignature);
  add("PS256 with maximum salt length",
      signToken("PS256", keys.rsa.get(), headerJson("PS256", "rsa"), claims,
                {.pssSaltLength = 256 - 32 - 2}),
      JwtFailure::BadSignature);
  add("PS256 with empty salt",
      signToken("PS256", keys.rsa.get(), headerJson("PS256", "rsa"), claims, {.pssSaltLength = 0}),
      JwtFailure::BadSignature);

  // Which key: only the trusted set, by kid.
  add("kid absent from set",
      signToken("RS256", keys.rsa.get(), headerJson("RS256", "gone"), claims),
      JwtFailure::UnknownKey);
  add("kid empty string", signedRs256(R"({"alg":"RS256","kid":""})", claims),
      JwtFailure::UnknownKey);
  add("kid as number", signedRs256(R"({"alg":"RS256","kid":7})", claims), JwtFailure::Malformed);
  add("kid null", signedRs256(R"({"alg":"RS256","kid":null})", claims), JwtFailure::Malformed);
  {
    // The attacker ships their own key in the header ("jwk", "jku"): it is never used.
    json header{{"alg", "RS256"}, {"jwk", testing::publicJwk(keys.otherRsa.get())}};
    add("embedded jwk of attacker key",
        signToken("RS256", keys.otherRsa.get(), header.dump(), claims), JwtFailure::BadSignature);
    json jku{{"alg", "RS256"}, {"kid", "rsa"}, {"jku", "https://attacker.example/jwks"}};
    add("jku to attacker key set", signToken("RS256", keys.otherRsa.get(), jku.dump(), claims),
        JwtFailure::BadSignature);
  }

  // Signature encodings.
  add("ES256 DER signature",
      signToken("ES256", keys.ec256.get(), headerJson("ES256", "ec256"), claims,
                {.ecdsaDer = true, .pssSaltLength = std::nullopt}),
      JwtFailure::BadSignature);
  add("ES384 DER signature",
      signToken("ES384", keys.ec384.get(), headerJson("ES384", "ec384"), claims,
                {.ecdsaDer = true, .pssSaltLength = std::nullopt}),
      JwtFailure::BadSignature);
  {
    const std::string header = headerJson("ES256", "ec256");
    const std::string sig = signBytes("ES256", keys.ec256.get(), signingInput(header, claims));
    add("ES256 r||s one byte short", compact(header, claims, sig.substr(0, 63)),
        JwtFailure::BadSignature);
    add("ES256 r||s with extra byte", compact(header, claims, sig + std::string(1, '\0')),
        JwtFailure::BadSignature);
    add("ES256 r||s zero", compact(header, claims, std::string(64, '\0')),
        JwtFailure::BadSignature);
    add("ES256 s swapped with r", compact(header, claims, sig.substr(32) + sig.substr(0, 32)),
        JwtFailure::BadSignature);
  }
  {
    const std::string sig = signBytes("RS256", keys.rsa.get(), signingInput(rsaHeader, claims));
    add("RS256 signature truncated", compact(rsaHeader, claims, sig.substr(0, sig.size() - 1)),
        JwtFailure::BadSignature);
    add("RS256 signature with leading zero", compact(rsaHeader, claims, std::string(1, '\0') + sig),
        JwtFailure::BadSignature);
    add("RS256 signature all zero", compact(rsaHeader, claims, std::string(sig.size(), '\0')),
        JwtFailure::BadSignature);
  }
  add("empty signature", compact(rsaHeader, claims, ""), JwtFailure::Malformed);
  add("RS256 signed by another key", signToken("RS256", keys.otherRsa.get(), rsaHeader, claims),
      JwtFailure::BadSignature);
  add("EdDSA signed by another key",
      signToken("EdDSA", keys.otherEd25519.get(), headerJson("EdDSA", "ed25519"), claims),
      JwtFailure::BadSignature);
  {
    Parts parts = split(signedRs256(rsaHeader, claims));
    Parts payloadSwapped = parts;
    payloadSwapped.payload = base64UrlEncode(claimsWith("sub", "admin"));
    add("payload modified after signing", payloadSwapped.join(), JwtFailure::BadSignature);
    Parts headerSwapped = parts;
    headerSwapped.header = base64UrlEncode(R"({"alg":"RS256","kid":"rsa","typ":"JWT"})");
    add("header modified after signing", headerSwapped.join(), JwtFailure::BadSignature);
    Parts transplanted = parts;
    transplanted.signature = split(signedRs256(rsaHeader, claimsWith("sub", "bob"))).signature;
    add("signature transplanted from another token", transplanted.join(), JwtFailure::BadSignature);

    // Structure and base64url.
    add("two parts", parts.header + "." + parts.payload, JwtFailure::Malformed);
    add("four parts", parts.join() + "." + parts.signature, JwtFailure::Malformed);
    add("one part", parts.header, JwtFailure::Malformed);
    add("empty token", "", JwtFailure::Malformed);
    add("only dots", "..", JwtFailure::Malformed);
    add("empty payload part", parts.header + ".." + parts.signature, JwtFailure::Malformed);
    EXPECT_EQ(parts.signature.size() % 4, 2u);  // 256 bytes: two padding characters in base64
    add("padded base64", parts.join() + "==", JwtFailure::Malformed);
    Parts standardAlphabet = parts;
    standardAlphabet.signature[0] = '+';
    add("standard base64 alphabet", standardAlphabet.join(), JwtFailure::Malformed);
    add("space inside", parts.header + "." + parts.payload + ". " + parts.signature,
        JwtFailure::Malformed);
    add("Bearer prefix left on", "Bearer " + parts.join(), JwtFailure::Malformed);
    add("trailing newline", parts.join() + "\n", JwtFailure::Malformed);
    Parts trailingBits = parts;
    // The last character carries 2 data bits and 4 unused ones; set an unused bit.
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char& last = trailingBits.signature.back();
    last = alphabet[alphabet.find(last) | 1];
    add("non-canonical trailing bits", trailingBits.join(), JwtFailure::Malformed);
  }

  // JSON parser differentials.
  add("header not JSON", signedRs256("alg=RS256", claims), JwtFailure::Malformed);
  add("header JSON array", signedRs256(R"(["alg","RS256"])", claims), JwtFailure::Malformed);
  add("header without alg", signedRs256(R"({"kid":"rsa"})", claims), JwtFailure::Malformed);
  add("alg as number", signedRs256(R"({"alg":256,"kid":"rsa"})", claims), JwtFailure::Malformed);
  add("duplicate alg in header", signedRs256(R"({"alg":"RS256","kid":"rsa","alg":"none"})", claims),
      JwtFailure::Malformed);
  add("duplicate kid in header",
      signedRs256(R"({"kid":"ec256","alg":"RS256","kid":"rsa"})", claims), JwtFailure::Malformed);
  add("payload not object", signedRs256(rsaHeader, R"(["iss"])"), JwtFailure::Malformed);
  add("payload JSON string", signedRs256(rsaHeader, R"("claims")"), JwtFailure::Malformed);
  add("payload not JSON", signedRs256(rsaHeader, "iss=me"), JwtFailure::Malformed);
  add("payload with NUL then a second document",
      signedRs256(rsaHeader, claims + std::string(1, '\0') + claimsWith("sub", "admin")),
      JwtFailure::Malformed);
  add("payload with trailing bytes", signedRs256(rsaHeader, claims + "{}"), JwtFailure::Malformed);
  add("duplicate exp in payload", signedRs256(rsaHeader, claimsPlusRaw("\"exp\":99999999999")),
      JwtFailure::Malformed);
  add("duplicate iss in payload", signedRs256(rsaHeader, claimsPlusRaw("\"iss\":\"evil\"")),
      JwtFailure::Malformed);
  add("deeply nested payload",
      signedRs256(rsaHeader,
                  claimsPlusRaw("\"x\":" + std::string(200, '[') + std::string(200, ']'))),
      JwtFailure::Malformed);
  add("deeply nested header",
      signedRs256(
          R"({"alg":"RS256","kid":"rsa","x":)" + std::string(40, '[') + std::string(40, ']') + "}",
          claims),
      JwtFailure::Malformed);
  add("invalid UTF-8 in payload", signedRs256(rsaHeader, claimsPlusRaw("\"name\":\"\xff\xfe\"")),
      JwtFailure::Malformed);
  add("lone surrogate in payload", signedRs256(rsaHeader, claimsPlusRaw(R"("name":"\udc00")")),
      JwtFailure::Malformed);
  add("byte order mark before header", signedRs256("\xEF\xBB\xBF" + rsaHeader, claims),
      JwtFailure::Malformed);

  // Critical extensions: none understood.
  add("crit exp", signedRs256(R"({"alg":"RS256","kid":"rsa","crit":["exp"],"exp":1})", claims),
      JwtFailure::UnsupportedCritical);
  add("crit b64 unencoded payload",
      signedRs256(R"({"alg":"RS256","kid":"rsa","b64":false,"crit":["b64"]})", claims),
      JwtFailure::UnsupportedCritical);
  add("crit empty", signedRs256(R"({"alg":"RS256","kid":"rsa","crit":[]})", claims),
      JwtFailure::UnsupportedCritical);

  // Size: checked before anything is decoded.
  add("oversized token", signedRs256(rsaHeader, claimsWith("pad", std::string(9000, 'a'))),
      JwtFailure::TooLarge);
  add("oversized garbage", std::string(8193, '.'), JwtFailure::TooLarge);

  // Claims, after a valid signature.
  add("expired", signedRs256(rsaHeader, claimsWith("exp", kNow - 3600)), JwtFailure::Expired);
  add("nbf in future", signedRs256(rsaHeader, claimsWith("nbf", kNow + 3600)),
      JwtFailure::NotYetValid);
  add("wrong iss", signedRs256(rsaHeader, claimsWith("iss", "https://evil.example")),
      JwtFailure::WrongIssuer);
  add("iss absent", signedRs256(rsaHeader, claimsWithout("iss")), JwtFailure::WrongIssuer);
  add("iss case differs", signedRs256(rsaHeader, claimsWith("iss", "https://ISSUER.example")),
      JwtFailure::WrongIssuer);
  add("wrong aud", signedRs256(rsaHeader, claimsWith("aud", "api://payments")),
      JwtFailure::WrongAudience);
  add("aud absent", signedRs256(rsaHeader, claimsWithout("aud")), JwtFailure::WrongAudience);
  add("aud number", signedRs256(rsaHeader, claimsWith("aud", 42)), JwtFailure::Malformed);
  add("aud array with number", signedRs256(rsaHeader, claimsWith("aud", json::array({1}))),
      JwtFailure::Malformed);
  add("exp absent", signedRs256(rsaHeader, claimsWithout("exp")), JwtFailure::MissingExpiry);
  add("exp as string", signedRs256(rsaHeader, claimsWith("exp", std::to_string(kNow + 600))),
      JwtFailure::Malformed);
  add("exp null", signedRs256(rsaHeader, claimsWith("exp", nullptr)), JwtFailure::Malformed);
  add("nbf as boolean", signedRs256(rsaHeader, claimsWith("nbf", true)), JwtFailure::Malformed);
  return corpus;
}

TEST(JwtAttackCorpusTest, EveryAttackFailsWithItsExpectedReason) {
  const std::vector<AttackCase> corpus = attackCorpus();
  for (const AttackCase& attack : corpus) {
    SCOPED_TRACE(attack.name);
    const JwkSet& keys = attack.keys ? *attack.keys : *testKeys().set;
    const auto result = verifyJwt(attack.token, keys, testing::testPolicy(), kNow);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(name(result.error()), name(attack.expected));
  }
}

TEST(JwtAttackCorpusTest, CorpusIsLargeAndNamesAreUnique) {
  const std::vector<AttackCase> corpus = attackCorpus();
  EXPECT_GE(corpus.size(), 35u);
  std::set<std::string> names;
  for (const AttackCase& attack : corpus)
    EXPECT_TRUE(names.insert(attack.name).second) << attack.name;
  // Every failure kind is exercised by some attack.
  std::set<JwtFailure> kinds;
  for (const AttackCase& attack : corpus)
    kinds.insert(attack.expected);
  EXPECT_EQ(kinds.size(), 12u);
}

// Each signed attack above is rejected for its one defect only: the same forge, without it, makes
// a token that verifies (so an "expired" case is not secretly failing on its signature).
TEST(JwtAttackCorpusTest, ForgeMakesValidTokensWhenNothingIsWrong) {
  const std::string claims = validClaims().dump();
  EXPECT_TRUE(verifyJwt(signedRs256(headerJson("RS256", "rsa"), claims), *testKeys().set,
                        testing::testPolicy(), kNow)
                  .ok());
  EXPECT_TRUE(verifyJwt(signedRs256(R"({"alg":"RS256","kid":"rsa","typ":"JWT"})", claims),
                        *testKeys().set, testing::testPolicy(), kNow)
                  .ok());
  EXPECT_TRUE(verifyJwt(signedRs256(headerJson("RS256", "rsa"), claimsPlusRaw("\"x\":[[1]]")),
                        *testKeys().set, testing::testPolicy(), kNow)
                  .ok());
  // Header members that are ignored (jku, typ) do not by themselves make a token fail.
  json jku{{"alg", "RS256"}, {"kid", "rsa"}, {"jku", "https://attacker.example/jwks"}};
  EXPECT_TRUE(
      verifyJwt(signedRs256(jku.dump(), claims), *testKeys().set, testing::testPolicy(), kNow)
          .ok());
}

}  // namespace
}  // namespace meshgate::auth
