// FieldPath names a field inside an object the way Kubernetes' field.Path does
// (`spec.rules[0].backends[1].weight`, `spec.selector[app]`). The codecs and validators build
// one while they walk an object so every FieldError says exactly where the problem is.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace meshgate::api {

class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string_view root) : path_(root) {}

  // `spec` + `ports` -> `spec.ports`; from the empty root it is just `ports`.
  FieldPath child(std::string_view name) const;
  // `spec.ports` + 0 -> `spec.ports[0]`.
  FieldPath index(std::size_t i) const;
  // `spec.selector` + `app` -> `spec.selector[app]` (map entries, unquoted as Kubernetes does).
  FieldPath key(std::string_view k) const;

  const std::string& str() const { return path_; }
  bool empty() const { return path_.empty(); }

  bool operator==(const FieldPath&) const = default;

 private:
  std::string path_;
};

}  // namespace meshgate::api
