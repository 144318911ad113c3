// Rendered object against its live copy; see cli/object_diff.h.
#include "cli/object_diff.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "operator/desired_state.h"

namespace meshgate::cli {

namespace {

using nlohmann::json;

// Written by the apiserver, never by an apply.
constexpr std::array<std::string_view, 5> kServerOwnedMetadata = {
    "uid", "resourceVersion", "managedFields", "creationTimestamp", "generation"};

bool isEmptyValue(const json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().empty();
  return (value.is_object() || value.is_array()) && value.empty();
}

bool isIgnored(const std::string& parentPath, const std::string& key) {
  if (parentPath == "metadata") {
    return std::find(kServerOwnedMetadata.begin(), kServerOwnedMetadata.end(), key) !=
           kServerOwnedMetadata.end();
  }
  return parentPath == "metadata.annotations" && key == op::kAppliedHashAnnotation;
}

// `.key` when the key reads as an identifier, else `["key"]` (label and annotation names).
std::string childPath(const std::string& parentPath, const std::string& key) {
  const bool plain = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0])) &&
                     std::all_of(key.begin(), key.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                     });
  if (!plain) return parentPath + "[" + json(key).dump() + "]";
  return parentPath.empty() ? key : parentPath + "." + key;
}

void compare(const json& rendered, const json* live, const std::string& path,
             std::vector<FieldDifference>& out) {
  if (live == nullptr) {
    if (!isEmptyValue(rendered)) out.push_back({path, std::nullopt, rendered});
    return;
  }
  if (rendered.is_object() && live->is_object()) {
    for (auto it = rendered.begin(); it != rendered.end(); ++it) {
      if (isIgnored(path, it.key())) continue;
      const auto found = live->find(it.key());
      compare(it.value(), found == live->end() ? nullptr : &*found, childPath(path, it.key()), out);
    }
    return;
  }
  if (rendered.is_array() && live->is_array()) {
    const std::size_t size = std::max(rendered.size(), live->size());
    for (std::size_t i = 0; i < size; i++) {
      const std::string elementPath = path + "[" + std::to_string(i) + "]";
      if (i >= rendered.size()) {
        out.push_back({elementPath, (*live)[i], std::nullopt});
      } else {
        compare(rendered[i], i < live->size() ? &(*live)[i] : nullptr, elementPath, out);
      }
    }
    return;
  }
  // 8080 and 8080.0 are the same port, as the operator's subset test says.
  const bool equal = rendered.is_number() && live->is_number()
                         ? rendered.get<double>() == live->get<double>()
                         : rendered == *live;
  if (!equal) out.push_back({path, *live, rendered});
}

std::string appliedHashOf(const json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  const auto annotations = metadata->find("annotations");
  if (annotations == metadata->end() || !annotations->is_object()) return "";
  return annotations->value(op::kAppliedHashAnnotation, "");
}

// The hash covers the owner references; without their uids it cannot be the operator's.
bool ownerUidsKnown(const json& rendered) {
  const auto& metadata = rendered.at("metadata");
  const auto references = metadata.find("ownerReferences");
  if (references == metadata.end()) return true;
  return std::all_of(references->begin(), references->end(),
                     [](const json& reference) { return !reference.value("uid", "").empty(); });
}

}  // namespace

std::vector<FieldDifference> diffFields(const json& rendered, const json& live) {
  std::vector<FieldDifference> out;
  compare(rendered, &live, "", out);
  return out;
}

ObjectDiff diffObject(const json& rendered, const json* live) {
  const auto& metadata = rendered.at("metadata");
  ObjectDiff diff;
  diff.kind = rendered.value("kind", "");
  diff.ns = metadata.value("namespace", "");
  diff.name = metadata.value("name", "");
  if (live == nullptr) {
    diff.change = ObjectChange::kCreate;
    diff.object = rendered;
    return diff;
  }
  diff.fields = diffFields(rendered, *live);
  const std::string renderedHash = appliedHashOf(rendered);
  const std::string liveHash = appliedHashOf(*live);
  const bool hashComparable = !renderedHash.empty() && ownerUidsKnown(rendered);
  if (!diff.fields.empty()) {
    diff.change = ObjectChange::kUpdate;
    if (hashComparable && liveHash == renderedHash)
      diff.note = "changed in the cluster since the operator applied it (applied-hash equal)";
    return diff;
  }
  if (!hashComparable) {
    diff.change = ObjectChange::kUpToDate;
    if (!renderedHash.empty())
      diff.note = "applied-hash not compared: the owner's manifest has no uid";
    return diff;
  }
  if (liveHash == renderedHash) {
    diff.change = ObjectChange::kUpToDate;
    diff.note = "applied-hash equal";
    return diff;
  }
  diff.change = ObjectChange::kUpdate;
  diff.fields.push_back({childPath("metadata.annotations", op::kAppliedHashAnnotation),
                         liveHash.empty() ? std::nullopt : std::optional<json>(liveHash),
                         json(renderedHash)});
  diff.note =
      "the fields render sets are equal, but the operator last applied another desired state: "
      "applying this one drops the fields it set then and no longer sets";
  return diff;
}

}  // namespace meshgate::cli
