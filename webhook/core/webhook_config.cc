// The webhook's config file decoder; see webhook/core/webhook_config.h. Every problem is collected
// (not just the first) so one edit of the ConfigMap can fix them all.
#include "webhook/core/webhook_config.h"

#include <charconv>
#include <exception>
#include <initializer_list>
#include <string_view>
#include <tuple>
#include <utility>

#include "api/field_error.h"
#include "api/field_path.h"
#include "api/json_object_codec.h"
#include "api/yaml_loader.h"

namespace meshgate::webhook {
namespace {

using api::ErrorList;
using api::FieldError;
using api::FieldPath;
using nlohmann::json;

using FieldNames = std::initializer_list<std::string_view>;

// A strictly decoded object: members outside `known` are reported once, up front, because a
// misspelt key (`imagePullpolicy`) would otherwise silently keep its default.
class StrictReader {
 public:
  StrictReader(const json& j, FieldPath path, ErrorList& errors, FieldNames known)
      : path_(std::move(path)), errors_(errors) {
    if (!j.is_object()) {
      errors_.push_back(FieldError::invalid(path_, j, "expected an object"));
      return;
    }
    object_ = &j;
    for (const auto& [name, value] : j.items()) {
      bool isKnown = false;
      for (const std::string_view k : known)
        isKnown = isKnown || k == name;
      if (!isKnown) {
        errors_.push_back(
            FieldError::invalid(path_.child(name), value, "unknown field" + listOf(known)));
      }
    }
  }

  // Null counts as absent, as in the api codecs: `injection:` with nothing under it is defaults.
  const json* find(std::string_view name) const {
    if (object_ == nullptr) return nullptr;
    const auto it = object_->find(name);
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  template <typename T>
  void read(std::string_view name, T& out) {
    if (const json* value = find(name)) api::decodeInto(*value, path(name), errors_, out);
  }

  FieldPath path(std::string_view name) const { return path_.child(name); }

 private:
  static std::string listOf(FieldNames known) {
    std::string out = " (known fields: ";
    bool first = true;
    for (const std::string_view k : known) {
      if (!first) out += ", ";
      out += k;
      first = false;
    }
    return out + ")";
  }

  const json* object_ = nullptr;
  FieldPath path_;
  ErrorList& errors_;
};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Kubernetes' resource.Quantity grammar: <sign><number><suffix>, where the suffix is a binary SI
// (Ki..Ei), decimal SI (m, k, M..E) or exponent (e3, E-2). A malformed quantity is worth catching
// here: the apiserver would reject every injected pod, blocking pod creation in every meshed
// namespace.
bool isQuantity(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const std::size_t intStart = i;
  while (i < s.size() && isDigit(s[i]))
    ++i;
  bool digits = i > intStart;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t fracStart = i;
    while (i < s.size() && isDigit(s[i]))
      ++i;
    digits = digits || i > fracStart;
  }
  if (!digits) return false;
  const std::string_view suffix = s.substr(i);
  for (const std::string_view known :
       {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E"}) {
    if (suffix == known) return true;
  }
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  std::size_t j = 1;
  if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
  if (j == suffix.size()) return false;
  for (; j < suffix.size(); ++j) {
    if (!isDigit(suffix[j])) return false;
  }
  return true;
}

// `resources` is copied into every sidecar, so only what a ResourceRequirements accepts and this
// webhook can vouch for is let through: requests and limits, each a map of quantities. Numbers
// are accepted (YAML `cpu: 1`) and stored as strings, the form the apiserver returns.
void decodeResources(const json& j, const FieldPath& path, ErrorList& errors, json& out) {
  StrictReader r(j, path, errors, {"requests", "limits"});
  if (!j.is_object()) return;
  json decoded = json::object();
  for (const char* section : {"requests", "limits"}) {
    const json* list = r.find(section);
    if (list == nullptr) continue;
    const FieldPath listPath = r.path(section);
    if (!list->is_object()) {
      errors.push_back(FieldError::invalid(listPath, *list, "expected an object"));
      continue;
    }
    json quantities = json::object();
    for (const auto& [name, value] : list->items()) {
      const FieldPath entry = listPath.key(name);
      if (name.empty()) {
        errors.push_back(FieldError::invalid(entry, name, "resource name must not be empty"));
        continue;
      }
      std::string quantity;
      if (value.is_string()) {
        quantity = value.get<std::string>();
      } else if (value.is_number()) {
        quantity = value.dump();
      } else {
        errors.push_back(
            FieldError::invalid(entry, value, "expected a quantity (e.g. 100m, 64Mi)"));
        continue;
      }
      if (!isQuantity(quantity)) {
        errors.push_back(
            FieldError::invalid(entry, value, "must be a quantity such as 100m, 0.5, 64Mi or 1e3"));
        continue;
      }
      if (quantity[0] == '-') {
        errors.push_back(FieldError::invalid(entry, value, "must be greater than or equal to 0"));
        continue;
      }
      quantities[name] = std::move(quantity);
    }
    decoded[section] = std::move(quantities);
  }
  out = std::move(decoded);
}

// host:port, the host a DNS name, an IPv4 address or a bracketed IPv6 address. The sidecar dials
// it at start-up, so a typo shows up here instead of as proxies that never get a config.
void validateAddress(const std::string& address, const FieldPath& path, ErrorList& errors) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    errors.push_back(FieldError::invalid(path, address, "must be host:port"));
    return;
  }
  const std::string_view host = std::string_view(address).substr(0, colon);
  const std::string_view port = std::string_view(address).substr(colon + 1);

  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    errors.push_back(FieldError::invalid(path, address, "port must be a number from 1 to 65535"));
  }

  if (host.empty()) {
    errors.push_back(FieldError::invalid(path, address, "host must not be empty"));
    return;
  }
  if (host.front() == '[') {
    const bool closed = host.size() > 2 && host.back() == ']';
    bool ipv6Chars = closed;
    for (std::size_t i = 1; closed && i + 1 < host.size(); ++i) {
      const char c = host[i];
      ipv6Chars = ipv6Chars && (isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                                c == ':' || c == '.');
    }
    if (!ipv6Chars) {
      errors.push_back(
          FieldError::invalid(path, address, "host must be an IPv6 address in brackets"));
    }
    return;
  }
  for (const char c : host) {
    const bool ok =
        isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
    if (!ok) {
      errors.push_back(FieldError::invalid(
          path, address, "host must be a DNS name or an IP address (IPv6 in brackets)"));
      return;
    }
  }
}

// SPIFFE IDs (spiffe://<trust domain>/ns/…/sa/…) only allow these characters in the trust domain.
bool isTrustDomain(std::string_view s) {
  for (const char c : s) {
    if (!(isDigit(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '_')) return false;
  }
  return !s.empty();
}

void decodeInjection(const json& j, const FieldPath& path, ErrorList& errors,
                     InjectionSettings& out) {
  StrictReader r(j, path, errors,
                 {"image", "initImage", "imagePullPolicy", "resources", "excludedNamespaces",
                  "controlPlaneAddress", "trustDomain"});
  const std::size_t before = errors.size();
  r.read("image", out.image);
  r.read("initImage", out.initImage);
  r.read("imagePullPolicy", out.imagePullPolicy);
  if (const json* resources = r.find("resources")) {
    decodeResources(*resources, r.path("resources"), errors, out.resources);
  }
  r.read("excludedNamespaces", out.excludedNamespaces);
  r.read("controlPlaneAddress", out.controlPlaneAddress);
  r.read("trustDomain", out.trustDomain);
  // Type errors already name these fields; a second "must not be empty" on them is noise.
  if (errors.size() != before) return;

  for (const auto& [field, value, what] :
       {std::tuple{"image", &out.image, "the sidecar image"},
        std::tuple{"initImage", &out.initImage, "the traffic-capture init container image"}}) {
    if (value->empty()) {
      errors.push_back(FieldError::required(r.path(field), what));
    } else if (value->find_first_of(" \t\r\n") != std::string::npos) {
      errors.push_back(FieldError::invalid(r.path(field), *value, "must not contain whitespace"));
    }
  }
  if (out.imagePullPolicy != "Always" && out.imagePullPolicy != "IfNotPresent" &&
      out.imagePullPolicy != "Never") {
    errors.push_back(FieldError::unsupported(r.path("imagePullPolicy"), out.imagePullPolicy,
                                             {"Always", "IfNotPresent", "Never"}));
  }
  for (std::size_t i = 0; i < out.excludedNamespaces.size(); ++i) {
    if (out.excludedNamespaces[i].empty()) {
      errors.push_back(FieldError::invalid(r.path("excludedNamespaces").index(i), "",
                                           "a namespace name must not be empty"));
    }
  }
  validateAddress(out.controlPlaneAddress, r.path("controlPlaneAddress"), errors);
  if (out.trustDomain.empty()) {
    errors.push_back(FieldError::required(r.path("trustDomain")));
  } else if (!isTrustDomain(out.trustDomain)) {
    errors.push_back(FieldError::invalid(
        r.path("trustDomain"), out.trustDomain,
        "a SPIFFE trust domain may contain only lowercase letters, digits, '.', '-' and '_'"));
  }
}

void decodePolicy(const json& j, const FieldPath& path, ErrorList& errors, AdmissionPolicy& out) {
  StrictReader r(j, path, errors,
                 {"requireTLS", "requireAuth", "maxRateLimitBurst", "requireAllowedHosts"});
  r.read("requireTLS", out.requireTLS);
  r.read("requireAuth", out.requireAuth);
  r.read("requireAllowedHosts", out.requireAllowedHosts);
  if (const json* burst = r.find("maxRateLimitBurst")) {
    const std::size_t before = errors.size();
    api::decodeInto(*burst, r.path("maxRateLimitBurst"), errors, out.maxRateLimitBurst);
    if (errors.size() == before && out.maxRateLimitBurst < 0) {
      errors.push_back(
          FieldError::invalid(r.path("maxRateLimitBurst"), out.maxRateLimitBurst, "must be >= 0"));
    }
  }
}

}  // namespace

meshgate::Expected<WebhookConfig, std::string> parseWebhookConfig(const std::string& text) {
  try {
    const api::YamlLoadResult loaded = api::loadYaml(text, "webhook config");
    if (!loaded.ok()) return loaded.error;
    if (loaded.documents.size() > 1) {
      return std::string("webhook config: expected one YAML document, found ") +
             std::to_string(loaded.documents.size());
    }
    WebhookConfig config;
    if (loaded.documents.empty() || loaded.documents[0].is_null()) return config;

    ErrorList errors;
    StrictReader root(loaded.documents[0], FieldPath(), errors, {"injection", "policy"});
    if (const json* injection = root.find("injection")) {
      decodeInjection(*injection, root.path("injection"), errors, config.injection);
    }
    if (const json* policy = root.find("policy")) {
      decodePolicy(*policy, root.path("policy"), errors, config.policy);
    }
    if (!errors.empty()) return api::joinErrors(errors);
    return config;
  } catch (const std::exception& e) {
    // The decoders do not throw on any JSON; this only guards against allocation failures.
    return std::string("webhook config: ") + e.what();
  }
}

void applyOverrides(WebhookConfig& config, const ConfigOverrides& overrides) {
  if (!overrides.sidecarImage.empty()) config.injection.image = overrides.sidecarImage;
  if (!overrides.initImage.empty()) config.injection.initImage = overrides.initImage;
}

}  // namespace meshgate::webhook
