// verifyJwt on random input (fixed seed, reproducible): random byte strings never verify, and a
// single-byte or single-bit mutation of a valid token never verifies unless it left the token's
// bytes unchanged — canonical base64url closes the "same bytes, other text" gap.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/auth/base64url.h"
#include "dataplane/auth/jwt_verifier.h"
#include "dataplane/auth/testing/jwt_forge.h"

namespace meshgate::auth {
namespace {

using testing::kNow;
using testing::testKeys;

constexpr int kRandomInputs = 20000;
constexpr int kMutationsPerFamily = 20000;

// Engine output only (distributions differ between standard libraries): the same inputs anywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  uint64_t below(uint64_t bound) { return engine_() % bound; }
  char byte() { return static_cast<char>(engine_() & 0xff); }

 private:
  std::mt19937_64 engine_;
};

std::string randomBytes(Random& random, size_t length) {
  std::string out;
  for (size_t i = 0; i < length; ++i)
    out.push_back(random.byte());
  return out;
}

std::string randomFromAlphabet(Random& random, size_t length, std::string_view alphabet) {
  std::string out;
  for (size_t i = 0; i < length; ++i)
    out.push_back(alphabet[random.below(alphabet.size())]);
  return out;
}

// Inputs of three shapes, each getting further into the verifier than the last.
std::string randomToken(Random& random) {
  switch (random.below(4)) {
    case 0:
      return randomBytes(random, random.below(400));
    case 1:
      return randomFromAlphabet(
          random, random.below(400),
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_...");
    case 2: {
      // Three base64url parts of random bytes.
      return base64UrlEncode(randomBytes(random, random.below(80))) + "." +
             base64UrlEncode(randomBytes(random, random.below(200))) + "." +
             base64UrlEncode(randomBytes(random, random.below(300)));
    }
    default: {
      // A real header and claims, random signature bytes of a plausible length.
      static const std::vector<std::string> algs = testing::allAlgorithms();
      const std::string& alg = algs[random.below(algs.size())];
      const size_t length = std::vector<size_t>{256, 64, 96, 64, 0, 1}[random.below(6)];
      return testing::compact(testing::headerJson(alg, testKeys().kidFor(alg)),
                              testing::validClaims().dump(), randomBytes(random, length));
    }
  }
}

TEST(JwtRandomInputTest, RandomInputNeverVerifies) {
  Random random(0x6d657368676174);
  const JwtPolicy policy = testing::testPolicy();
  int reachedSignature = 0;
  for (int i = 0; i < kRandomInputs; ++i) {
    const std::string token = randomToken(random);
    const auto result = verifyJwt(token, *testKeys().set, policy, kNow);
    ASSERT_FALSE(result.ok()) << "input " << i;
    reachedSignature += result.error() == JwtFailure::BadSignature;
  }
  // The structured shapes must get as far as the signature check, or the test proves little.
  EXPECT_GT(reachedSignature, kRandomInputs / 8);
}

class JwtMutationTest : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(JwtMutationTest, MutatedTokenNeverVerifies) {
  const std::vector<std::string>& algs = GetParam();
  std::vector<std::string> tokens;
  for (const std::string& alg : algs)
    tokens.push_back(testKeys().validToken(alg));
  const JwtPolicy policy = testing::testPolicy();
  for (const std::string& token : tokens) {
    ASSERT_TRUE(verifyJwt(token, *testKeys().set, policy, kNow).ok());
  }
  Random random(0x6a7774 + algs.size() * 7919 + algs.front().size());
  int unchanged = 0;
  int rejected = 0;
  for (int i = 0; i < kMutationsPerFamily; ++i) {
    const std::string& original = tokens[random.below(tokens.size())];
    std::string mutated = original;
    const size_t at = random.below(mutated.size());
    if (random.below(2) == 0) {
      mutated[at] = static_cast<char>(mutated[at] ^ (1 << random.below(8)));
    } else {
      mutated[at] = random.byte();
    }
    const auto result = verifyJwt(mutated, *testKeys().set, policy, kNow);
    if (mutated == original) {
      ++unchanged;
      EXPECT_TRUE(result.ok());
    } else {
      ++rejected;
      ASSERT_FALSE(result.ok()) << "mutation " << i << " at byte " << at << " of "
                                << original.substr(0, original.find('.'));
    }
  }
  EXPECT_EQ(unchanged + rejected, kMutationsPerFamily);
  EXPECT_GT(rejected, kMutationsPerFamily * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(AlgorithmFamilies, JwtMutationTest,
                         ::testing::Values(std::vector<std::string>{"RS256", "RS384", "RS512"},
                                           std::vector<std::string>{"PS256", "PS384", "PS512"},
                                           std::vector<std::string>{"ES256", "ES384"},
                                           std::vector<std::string>{"EdDSA"}),
                         [](const auto& info) {
                           const std::string& first = info.param.front();
                           return first == "EdDSA" ? std::string("EdDSA") : first.substr(0, 2);
                         });

}  // namespace
}  // namespace meshgate::auth
