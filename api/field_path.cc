// FieldPath: string building for Kubernetes-style field paths.
#include "api/field_path.h"

namespace meshgate::api {

FieldPath FieldPath::child(std::string_view name) const {
  FieldPath p;
  p.path_.reserve(path_.size() + name.size() + 1);
  p.path_ = path_;
  if (!p.path_.empty()) p.path_ += '.';
  p.path_ += name;
  return p;
}

FieldPath FieldPath::index(std::size_t i) const {
  FieldPath p = *this;
  p.path_ += '[';
  p.path_ += std::to_string(i);
  p.path_ += ']';
  return p;
}

FieldPath FieldPath::key(std::string_view k) const {
  FieldPath p = *this;
  p.path_ += '[';
  p.path_ += k;
  p.path_ += ']';
  return p;
}

}  // namespace meshgate::api
