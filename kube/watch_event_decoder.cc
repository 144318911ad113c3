// Newline framing and event decoding for watch streams.
#include "kube/watch_event_decoder.h"

namespace kube {

const char* toString(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added:
      return "ADDED";
    case WatchEventType::Modified:
      return "MODIFIED";
    case WatchEventType::Deleted:
      return "DELETED";
    case WatchEventType::Bookmark:
      return "BOOKMARK";
    case WatchEventType::Error:
      return "ERROR";
  }
  return "UNKNOWN";
}

namespace {
ApiError decodeError(const std::string& message) {
  return ApiError::invalidResponse("watch stream: " + message);
}
}  // namespace

Status WatchEventDecoder::feed(std::string_view bytes, std::vector<WatchEvent>& out) {
  size_t start = 0;
  while (start < bytes.size()) {
    const size_t newline = bytes.find('\n', start);
    if (newline == std::string_view::npos) {
      buffer_.append(bytes.substr(start));
      if (buffer_.size() > maxEventBytes_) {
        return decodeError("event larger than " + std::to_string(maxEventBytes_) + " bytes");
      }
      return Ok{};
    }
    std::string_view piece = bytes.substr(start, newline - start);
    start = newline + 1;
    if (buffer_.empty()) {
      if (auto status = decodeLine(piece, out); !status) return status;
    } else {
      buffer_.append(piece);
      std::string line = std::move(buffer_);
      buffer_.clear();
      if (auto status = decodeLine(line, out); !status) return status;
    }
  }
  return Ok{};
}

Status WatchEventDecoder::decodeLine(std::string_view line, std::vector<WatchEvent>& out) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return Ok{};
  auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return decodeError("malformed JSON event");
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end() || !object->is_object()) {
    return decodeError("event without type or object");
  }
  WatchEvent event;
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "ADDED") {
    event.type = WatchEventType::Added;
  } else if (name == "MODIFIED") {
    event.type = WatchEventType::Modified;
  } else if (name == "DELETED") {
    event.type = WatchEventType::Deleted;
  } else if (name == "BOOKMARK") {
    event.type = WatchEventType::Bookmark;
  } else if (name == "ERROR") {
    event.type = WatchEventType::Error;
  } else {
    return decodeError("unknown event type \"" + name + "\"");
  }
  // managedFields are dropped, as controller-runtime's TransformStripManagedFields does: nothing
  // that watches reads them, and on server-side-applied objects they are a large share of the
  // bytes a cache would hold.
  if (auto metadata = object->find("metadata"); metadata != object->end() && metadata->is_object())
    metadata->erase("managedFields");
  event.object = std::make_shared<const nlohmann::json>(std::move(*object));
  out.push_back(std::move(event));
  return Ok{};
}

}  // namespace kube
