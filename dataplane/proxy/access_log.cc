// JSON formatting of access records and the writer thread.
#include "dataplane/proxy/access_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace meshgate::dp {

namespace {

constexpr size_t kMaxPending = 8 * 1024 * 1024;

void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      out.append("\\u00");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);  // bytes >= 0x80 pass as they came (the log is for people and jq)
    }
  }
  out.push_back('"');
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(',');
  appendJsonString(out, name);
  out.push_back(':');
  appendJsonString(out, value);
}

}  // namespace

void formatAccessRecord(std::string& out, const AccessRecord& record) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char time[64];
  std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  out.append("{\"time\":\"");
  out.append(time);
  out.push_back('"');
  appendField(out, "method", record.method);
  appendField(out, "target", record.target);
  appendField(out, "host", record.host);
  out.append(",\"status\":");
  out.append(std::to_string(record.status));
  out.append(",\"duration_us\":");
  out.append(std::to_string(record.durationMicros));
  appendField(out, "route", record.route);
  appendField(out, "upstream", record.upstream);
  appendField(out, "client", record.client);
  appendField(out, "request_id", record.requestId);
  appendField(out, "listener", record.listener);
  if (!record.identity.empty()) appendField(out, "identity", record.identity);
  out.append("}\n");
}

void redactQueryParameter(std::string& target, std::string_view name) {
  const size_t query = target.find('?');
  if (query == std::string::npos) return;
  std::string out = target.substr(0, query + 1);
  std::string_view rest = std::string_view(target).substr(query + 1);
  bool first = true;
  while (true) {
    const size_t end = rest.find('&');
    const std::string_view pair = rest.substr(0, end);
    const size_t equals = pair.find('=');
    if (!first) out.push_back('&');
    first = false;
    if (pair.substr(0, equals) == name && equals != std::string_view::npos) {
      out.append(pair.substr(0, equals + 1));
      out.append("redacted");
    } else {
      out.append(pair);
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  target = std::move(out);
}

AccessLog::AccessLog(std::string path) : path_(std::move(path)), writer_([this] { writeLoop(); }) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void AccessLog::submit(std::string& batch) {
  if (batch.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + batch.size() > kMaxPending) {
      dropped_++;
    } else {
      pending_.append(batch);
    }
  }
  batch.clear();
  wake_.notify_one();
}

uint64_t AccessLog::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void AccessLog::writeLoop() {
  std::FILE* file = std::fopen(path_.c_str(), "a");
  std::string writing;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      writing.swap(pending_);
      if (writing.empty() && stopping_) break;
    }
    if (file) {
      std::fwrite(writing.data(), 1, writing.size(), file);
      std::fflush(file);
    }
    writing.clear();
  }
  if (file) std::fclose(file);
}

}  // namespace meshgate::dp
