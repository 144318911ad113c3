// meshgate-jwt-mint: signing keys, their JWKS and signed JWTs for the e2e suite and the proxy
// benchmark, so neither needs an identity provider.
//   meshgate-jwt-mint keygen --alg ES256 --kid k1 --dir DIR
//       writes DIR/<kid>.key.pem (private key, mode 0600) and DIR/<kid>.jwk.json (public JWK)
//   meshgate-jwt-mint jwks DIR/k1.jwk.json [DIR/k2.jwk.json …]      a JWKS of those keys
//   meshgate-jwt-mint sign --alg ES256 --kid k1 --key DIR/k1.key.pem --iss I --aud A
//       [--sub S] [--ttl 600] [--claim name=value …]                 one compact JWS on stdout
// Algorithms: RS256/384/512, PS256/384/512, ES256, ES384, EdDSA (Ed25519). Test tool: the keys are
// real, but nothing here is meant to protect anything.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dataplane/auth/base64url.h"

namespace {

using meshgate::auth::base64UrlEncode;
using nlohmann::json;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "meshgate-jwt-mint: " << what << "\n";
  std::exit(1);
}

std::string bignum(EVP_PKEY* key, const char* name, int width = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) fail(std::string("no key parameter ") + name);
  std::string bytes(static_cast<size_t>(width > 0 ? width : BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return bytes;
}

PkeyPtr generate(const std::string& alg) {
  EVP_PKEY* key = nullptr;
  if (alg.starts_with("RS") || alg.starts_with("PS"))
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  else if (alg == "ES256")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (alg == "ES384")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  else if (alg == "EdDSA")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else
    fail("unsupported --alg " + alg);
  if (!key) fail("key generation failed");
  return PkeyPtr(key, EVP_PKEY_free);
}

json publicJwk(EVP_PKEY* key, const std::string& alg, const std::string& kid) {
  json jwk{{"kid", kid}, {"alg", alg}, {"use", "sig"}};
  if (EVP_PKEY_is_a(key, "RSA")) {
    jwk["kty"] = "RSA";
    jwk["n"] = base64UrlEncode(bignum(key, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = base64UrlEncode(bignum(key, OSSL_PKEY_PARAM_RSA_E));
  } else if (EVP_PKEY_is_a(key, "EC")) {
    const int width = alg == "ES256" ? 32 : 48;
    jwk["kty"] = "EC";
    jwk["crv"] = alg == "ES256" ? "P-256" : "P-384";
    jwk["x"] = base64UrlEncode(bignum(key, OSSL_PKEY_PARAM_EC_PUB_X, width));
    jwk["y"] = base64UrlEncode(bignum(key, OSSL_PKEY_PARAM_EC_PUB_Y, width));
  } else {
    unsigned char raw[32];
    size_t length = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &length) != 1) fail("no Ed25519 public key");
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = base64UrlEncode(std::string(reinterpret_cast<char*>(raw), length));
  }
  return jwk;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The JWS signature of `input`: PKCS#1 v1.5, PSS (salt = hash length), ECDSA as r‖s, or Ed25519.
std::string sign(const std::string& alg, EVP_PKEY* key, const std::string& input) {
  const EVP_MD* md = nullptr;
  if (alg != "EdDSA")
    md = alg.ends_with("256") ? EVP_sha256() : alg.ends_with("384") ? EVP_sha384() : EVP_sha512();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) fail("sign init");
  if (alg.starts_with("PS") &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
    fail("PSS parameters");
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1) fail("sign size");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     input.size()) != 1)
    fail("sign");
  signature.resize(length);
  if (!alg.starts_with("ES")) return signature;
  // DER ECDSA-Sig-Value → fixed-width r‖s.
  const int width = alg == "ES256" ? 32 : 48;
  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())), ECDSA_SIG_free);
  if (!sig) fail("ECDSA signature");
  std::string joined(static_cast<size_t>(2 * width), '\0');
  auto* out = reinterpret_cast<unsigned char*>(joined.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, width);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + width, width);
  return joined;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("meshgate-jwt-mint: test signing keys, JWKS and JWTs");
  app.require_subcommand(1);
  std::string alg = "ES256", kid = "k1", dir = ".", keyFile, iss, aud, sub;
  long ttl = 600;
  std::vector<std::string> claims, jwkFiles;

  CLI::App* keygen = app.add_subcommand("keygen", "a private key and its public JWK");
  keygen->add_option("--alg", alg);
  keygen->add_option("--kid", kid);
  keygen->add_option("--dir", dir);
  CLI::App* jwks = app.add_subcommand("jwks", "a JWKS of public JWK files");
  jwks->add_option("jwk", jwkFiles)->required();
  CLI::App* signer = app.add_subcommand("sign", "a signed JWT");
  signer->add_option("--alg", alg);
  signer->add_option("--kid", kid);
  signer->add_option("--key", keyFile)->required();
  signer->add_option("--iss", iss)->required();
  signer->add_option("--aud", aud)->required();
  signer->add_option("--sub", sub);
  signer->add_option("--ttl", ttl, "seconds until exp (negative: already expired)");
  signer->add_option("--claim", claims, "name=value (a string claim)");
  CLI11_PARSE(app, argc, argv);

  if (*keygen) {
    const PkeyPtr key = generate(alg);
    const std::string keyPath = dir + "/" + kid + ".key.pem";
    FILE* file = std::fopen(keyPath.c_str(), "w");
    if (!file || PEM_write_PrivateKey(file, key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      fail("cannot write " + keyPath);
    std::fclose(file);
    ::chmod(keyPath.c_str(), 0600);
    std::ofstream(dir + "/" + kid + ".jwk.json") << publicJwk(key.get(), alg, kid).dump() << "\n";
    return 0;
  }
  if (*jwks) {
    json keys = json::array();
    for (const auto& path : jwkFiles)
      keys.push_back(json::parse(readFile(path)));
    std::cout << json{{"keys", keys}}.dump() << "\n";
    return 0;
  }
  const std::string pem = readFile(keyFile);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) fail("no private key in " + keyFile);
  const long now = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  json payload{{"iss", iss}, {"aud", aud}, {"iat", now}, {"exp", now + ttl}};
  if (!sub.empty()) payload["sub"] = sub;
  for (const auto& claim : claims) {
    const size_t equals = claim.find('=');
    if (equals == std::string::npos) fail("--claim wants name=value: " + claim);
    payload[claim.substr(0, equals)] = claim.substr(equals + 1);
  }
  const std::string input =
      base64UrlEncode(json{{"alg", alg}, {"kid", kid}, {"typ", "JWT"}}.dump()) + "." +
      base64UrlEncode(payload.dump());
  std::cout << input << "." << base64UrlEncode(sign(alg, key.get(), input)) << "\n";
  return 0;
}
