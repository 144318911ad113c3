// JwkSet::parse: RFC 7517/7518 public keys into EVP_PKEYs through OpenSSL 3's provider API
// (EVP_PKEY_fromdata, EVP_PKEY_new_raw_public_key); no deprecated RSA_/EC_KEY_ calls.
#include "dataplane/auth/jwk_set.h"

#include <set>
#include <utility>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "dataplane/auth/base64url.h"
#include "dataplane/auth/strict_json.h"

namespace meshgate::auth {
namespace {

using nlohmann::json;

constexpr int kMinRsaBits = 2048;
// OpenSSL refuses to verify with larger moduli (OPENSSL_RSA_MAX_MODULUS_BITS).
constexpr int kMaxRsaBits = 16384;

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) {
  return key == nullptr ? nullptr : std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

// One key's outcome: a usable key, a reason to skip it, or an error (message without the index).
struct KeyResult {
  enum Kind { Usable, Skipped, Invalid } kind;
  Jwk jwk;
  std::string error;
};

KeyResult invalid(std::string error) {
  return {KeyResult::Invalid, {}, std::move(error)};
}
KeyResult skipped() {
  return {KeyResult::Skipped, {}, {}};
}

// A required base64url member; nullopt with error set when missing or not canonical base64url.
std::optional<std::string> member(const json& key, const char* name, std::string& error) {
  const auto it = key.find(name);
  if (it == key.end() || !it->is_string()) {
    error = std::string("missing \"") + name + "\"";
    return std::nullopt;
  }
  auto bytes = base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes) error = std::string("\"") + name + "\" is not base64url";
  return bytes;
}

std::string_view stripLeadingZeros(std::string_view bytes) {
  while (!bytes.empty() && bytes.front() == '\0')
    bytes.remove_prefix(1);
  return bytes;
}

int bitLength(std::string_view magnitude) {
  if (magnitude.empty()) return 0;
  int top = 0;
  for (unsigned v = static_cast<unsigned char>(magnitude.front()); v != 0; v >>= 1)
    ++top;
  return static_cast<int>(magnitude.size() - 1) * 8 + top;
}

std::unique_ptr<BIGNUM, BnFree> toBignum(std::string_view bytes) {
  return std::unique_ptr<BIGNUM, BnFree>(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                static_cast<int>(bytes.size()), nullptr));
}

// Key material from OSSL_PARAMs, as a public key of the named type.
std::shared_ptr<EVP_PKEY> fromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return own(key);
}

KeyResult parseRsa(const json& key) {
  std::string error;
  const auto n = member(key, "n", error);
  if (!n) return invalid("RSA " + error);
  const auto e = member(key, "e", error);
  if (!e) return invalid("RSA " + error);
  // RFC 7518 §6.3.1.1 asks for no leading zero octets, but some libraries emit one: tolerate it.
  const std::string_view modulus = stripLeadingZeros(*n);
  const std::string_view exponent = stripLeadingZeros(*e);
  const int bits = bitLength(modulus);
  if (bits == 0 || (modulus.back() & 1) == 0) return invalid("RSA modulus is not odd");
  if (bits > kMaxRsaBits) return invalid("RSA modulus too large");
  // An exponent of 1 would make every value its own signature; an even one is no RSA key.
  if (bitLength(exponent) < 2 || bitLength(exponent) > 64 || (exponent.back() & 1) == 0) {
    return invalid("RSA exponent out of range");
  }
  if (bits < kMinRsaBits) return skipped();
  auto bnN = toBignum(modulus);
  auto bnE = toBignum(exponent);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bnN || !bnE || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bnN.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bnE.get()) != 1) {
    return invalid("RSA key not importable");
  }
  auto pkey = fromData("RSA", bld.get());
  if (!pkey) return invalid("RSA key not importable");
  return {KeyResult::Usable, Jwk{{}, JwkType::Rsa, {}, std::nullopt, std::move(pkey)}, {}};
}

KeyResult parseEc(const json& key) {
  const auto crv = key.find("crv");
  if (crv == key.end() || !crv->is_string()) return invalid("EC key without \"crv\"");
  const std::string& curve = crv->get_ref<const std::string&>();
  const char* group = nullptr;
  size_t size = 0;
  if (curve == "P-256") {
    group = "prime256v1";
    size = 32;
  } else if (curve == "P-384") {
    group = "secp384r1";
    size = 48;
  } else {
    return skipped();
  }
  std::string error;
  const auto x = member(key, "x", error);
  if (!x) return invalid("EC " + error);
  const auto y = member(key, "y", error);
  if (!y) return invalid("EC " + error);
  if (x->size() != size || y->size() != size) return invalid("EC coordinate of wrong length");
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return invalid("EC key not importable");
  }
  auto pkey = fromData("EC", bld.get());
  if (!pkey) return invalid("EC point not on curve");
  // The import already refuses points off the curve; the full public check costs little, once.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return invalid("EC point not on curve");
  return {KeyResult::Usable, Jwk{{}, JwkType::Ec, curve, std::nullopt, std::move(pkey)}, {}};
}

KeyResult parseOkp(const json& key) {
  const auto crv = key.find("crv");
  if (crv == key.end() || !crv->is_string()) return invalid("OKP key without \"crv\"");
  if (crv->get_ref<const std::string&>() != "Ed25519") return skipped();
  std::string error;
  const auto x = member(key, "x", error);
  if (!x) return invalid("OKP " + error);
  if (x->size() != 32) return invalid("Ed25519 key of wrong length");
  auto pkey = own(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size()));
  if (!pkey) return invalid("Ed25519 key not importable");
  return {KeyResult::Usable, Jwk{{}, JwkType::Okp, "Ed25519", std::nullopt, std::move(pkey)}, {}};
}

KeyResult parseKey(const json& key) {
  if (!key.is_object()) return invalid("not an object");
  std::string kid;
  if (const auto it = key.find("kid"); it != key.end()) {
    if (!it->is_string()) return invalid("\"kid\" is not a string");
    kid = it->get<std::string>();
  }
  std::optional<std::string> alg;
  if (const auto it = key.find("alg"); it != key.end()) {
    if (!it->is_string()) return invalid("\"alg\" is not a string");
    alg = it->get<std::string>();
  }
  if (const auto it = key.find("use"); it != key.end()) {
    if (!it->is_string()) return invalid("\"use\" is not a string");
    if (it->get_ref<const std::string&>() != "sig") return skipped();
  }
  if (const auto it = key.find("key_ops"); it != key.end()) {
    if (!it->is_array()) return invalid("\"key_ops\" is not an array");
    bool verify = false;
    for (const json& op : *it) {
      if (!op.is_string()) return invalid("\"key_ops\" holds a non-string");
      verify = verify || op.get_ref<const std::string&>() == "verify";
    }
    if (!verify) return skipped();
  }
  const auto kty = key.find("kty");
  if (kty == key.end() || !kty->is_string()) return invalid("missing \"kty\"");
  const std::string& type = kty->get_ref<const std::string&>();
  KeyResult result = type == "RSA"   ? parseRsa(key)
                     : type == "EC"  ? parseEc(key)
                     : type == "OKP" ? parseOkp(key)
                                     : skipped();  // "oct" (never usable) and unknown types
  if (result.kind == KeyResult::Usable) {
    result.jwk.kid = std::move(kid);
    result.jwk.alg = std::move(alg);
  }
  return result;
}

}  // namespace

Expected<std::shared_ptr<const JwkSet>, std::string> JwkSet::parse(std::string_view text) {
  auto document = parseStrictJson(text);
  // OpenSSL leaves errors on the thread's queue when an import fails; they are reported here.
  struct ClearErrors {
    ~ClearErrors() { ERR_clear_error(); }
  } clearErrors;
  if (!document.ok()) return "JWKS: " + document.error();
  const json& root = document.value();
  if (!root.is_object()) return std::string("JWKS: not an object");
  const auto keys = root.find("keys");
  if (keys == root.end() || !keys->is_array()) return std::string("JWKS: no \"keys\" array");
  std::vector<Jwk> usable;
  std::set<std::string, std::less<>> kids;
  for (size_t i = 0; i < keys->size(); ++i) {
    KeyResult result = parseKey((*keys)[i]);
    const std::string where = "JWKS key " + std::to_string(i) + ": ";
    if (result.kind == KeyResult::Invalid) return where + result.error;
    if (result.kind == KeyResult::Skipped) continue;
    if (!result.jwk.kid.empty() && !kids.insert(result.jwk.kid).second) {
      return where + "duplicate \"kid\"";
    }
    usable.push_back(std::move(result.jwk));
  }
  if (usable.empty()) return std::string("JWKS: no usable signing key");
  return std::shared_ptr<const JwkSet>(new JwkSet(std::move(usable)));
}

const Jwk* JwkSet::find(std::string_view kid) const {
  if (kid.empty()) return nullptr;
  for (const Jwk& jwk : keys_) {
    if (jwk.kid == kid) return &jwk;
  }
  return nullptr;
}

}  // namespace meshgate::auth
