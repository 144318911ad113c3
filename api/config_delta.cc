// Splitting, diffing and applying configs for Delta frames; see config_delta.h.
#include "api/config_delta.h"

#include <unordered_map>

namespace meshgate::api::stream {

namespace {

using nlohmann::json;

bool isArrayOfObjects(const json& value) {
  if (!value.is_array()) return false;
  for (const auto& element : value)
    if (!element.is_object()) return false;
  return true;
}

std::string jsonString(std::string_view text) {
  return json(std::string(text)).dump();
}

std::string joinArray(const std::vector<std::shared_ptr<const std::string>>& elements) {
  std::size_t size = 2;
  for (const auto& element : elements)
    size += element->size() + 1;
  std::string out;
  out.reserve(size);
  out += '[';
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    out += *elements[i];
  }
  out += ']';
  return out;
}

// The pieces that rebuild `target` from `base`: runs of base elements as "[start,count]", new
// elements as their text. Empty string when target equals base.
std::string diffArray(const std::vector<std::shared_ptr<const std::string>>& base,
                      const std::vector<std::shared_ptr<const std::string>>& target) {
  if (base.size() == target.size()) {
    bool same = true;
    for (std::size_t i = 0; i < base.size() && same; ++i)
      same = base[i] == target[i] || *base[i] == *target[i];
    if (same) return {};
  }
  std::unordered_map<std::string_view, std::size_t> indexOf;
  indexOf.reserve(base.size());
  for (std::size_t i = 0; i < base.size(); ++i)
    indexOf.try_emplace(*base[i], i);
  std::string out = "[";
  bool first = true;
  std::size_t runStart = 0;
  std::size_t runLength = 0;
  auto piece = [&](std::string_view text) {
    if (!first) out += ',';
    first = false;
    out += text;
  };
  auto flushRun = [&] {
    if (runLength == 0) return;
    piece("[" + std::to_string(runStart) + "," + std::to_string(runLength) + "]");
    runLength = 0;
  };
  for (const auto& element : target) {
    const auto found = indexOf.find(*element);
    if (found == indexOf.end()) {
      flushRun();
      piece(*element);
      continue;
    }
    if (runLength > 0 && runStart + runLength == found->second) {
      runLength++;
      continue;
    }
    flushRun();
    runStart = found->second;
    runLength = 1;
  }
  flushRun();
  out += ']';
  return out;
}

}  // namespace

SplitConfig splitConfig(const json& config, const SplitConfig* previous) {
  // The previous config's elements by content, to share their strings.
  std::unordered_map<std::string_view, std::shared_ptr<const std::string>> known;
  if (previous) {
    for (const auto& [name, elements] : previous->arrays)
      for (const auto& element : elements)
        known.try_emplace(*element, element);
  }
  SplitConfig out;
  for (const auto& [name, value] : config.items()) {
    if (!isArrayOfObjects(value)) {
      out.members.emplace(name, value.dump());
      continue;
    }
    auto& elements = out.arrays[name];
    elements.reserve(value.size());
    for (const auto& element : value) {
      std::string text = element.dump();
      const auto found = known.find(text);
      elements.push_back(found != known.end()
                             ? found->second
                             : std::make_shared<const std::string>(std::move(text)));
    }
  }
  return out;
}

std::string joinConfig(const SplitConfig& config) {
  // Both maps are sorted by name, as json::dump() writes an object's members: merge them.
  std::string out = "{";
  auto member = config.members.begin();
  auto array = config.arrays.begin();
  bool first = true;
  while (member != config.members.end() || array != config.arrays.end()) {
    if (!first) out += ',';
    first = false;
    if (array == config.arrays.end() ||
        (member != config.members.end() && member->first < array->first)) {
      out += jsonString(member->first) + ":" + member->second;
      ++member;
    } else {
      out += jsonString(array->first) + ":" + joinArray(array->second);
      ++array;
    }
  }
  out += '}';
  return out;
}

std::string encodeDeltaFrame(std::string_view version, std::string_view baseVersion,
                             const SplitConfig& base, const SplitConfig& target) {
  std::string set;
  std::string patch;
  std::vector<std::string> unset;
  auto append = [](std::string& to, const std::string& name, std::string_view text) {
    if (!to.empty()) to += ',';
    to += jsonString(name) + ":";
    to += text;
  };
  for (const auto& [name, text] : target.members) {
    const auto found = base.members.find(name);
    if (found == base.members.end() || found->second != text) append(set, name, text);
  }
  for (const auto& [name, elements] : target.arrays) {
    const auto found = base.arrays.find(name);
    if (found != base.arrays.end()) {
      if (auto pieces = diffArray(found->second, elements); !pieces.empty())
        append(patch, name, pieces);
    } else if (base.members.count(name) == 0) {
      const std::string pieces = diffArray({}, elements);
      append(patch, name, pieces.empty() ? "[]" : pieces);
    } else {
      append(set, name, joinArray(elements));  // was not an array of objects in base
    }
  }
  for (const auto& [name, text] : base.members)
    if (target.members.count(name) == 0 && target.arrays.count(name) == 0) unset.push_back(name);
  for (const auto& [name, elements] : base.arrays)
    if (target.members.count(name) == 0 && target.arrays.count(name) == 0) unset.push_back(name);

  // Type and version first, as in every server frame (frameVersion reads them).
  std::string frame = R"({"type":"Delta","version":)";
  frame += jsonString(version);
  frame += R"(,"base":)";
  frame += jsonString(baseVersion);
  frame += R"(,"set":{)";
  frame += set;
  frame += R"(},"unset":)";
  frame += json(unset).dump();
  frame += R"(,"patch":{)";
  frame += patch;
  frame += "}}";
  return frame;
}

Expected<json, std::string> applyDelta(const json& baseConfig, const Delta& delta) {
  if (!baseConfig.is_object()) return std::string("the base config is not an object");
  json out = baseConfig;
  for (const auto& name : delta.unset)
    out.erase(name);
  for (const auto& [name, value] : delta.set.items())
    out[name] = value;
  for (const auto& [name, pieces] : delta.patch.items()) {
    if (!pieces.is_array()) return "patch." + name + ": expected an array";
    const auto found = baseConfig.find(name);
    const bool hasBase = found != baseConfig.end();
    if (hasBase && !found->is_array()) return "patch." + name + ": the base member is not an array";
    const std::size_t baseSize = hasBase ? found->size() : 0;
    json rebuilt = json::array();
    for (const auto& piece : pieces) {
      if (piece.is_object()) {
        rebuilt.push_back(piece);
        continue;
      }
      auto isCount = [](const json& n) {
        return n.is_number_integer() && n.get<std::int64_t>() >= 0;
      };
      if (!piece.is_array() || piece.size() != 2 || !isCount(piece[0]) || !isCount(piece[1]))
        return "patch." + name + ": a piece is neither an element nor a [start, count] run";
      const auto start = piece[0].get<std::uint64_t>();
      const auto count = piece[1].get<std::uint64_t>();
      if (start > baseSize || count > baseSize - start)
        return "patch." + name + ": run [" + std::to_string(start) + ", " + std::to_string(count) +
               "] is past the end of the base array (" + std::to_string(baseSize) + " elements)";
      for (std::uint64_t i = start; i < start + count; ++i)
        rebuilt.push_back((*found)[i]);
    }
    out[name] = std::move(rebuilt);
  }
  return out;
}

}  // namespace meshgate::api::stream
