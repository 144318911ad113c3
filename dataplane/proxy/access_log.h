// AccessLog: one JSON line per request, written off the request path. Workers format a line and
// append it to their own batch; every 100 ms (or at 64 KiB) the batch is handed to the writer
// thread, which appends it to the file. A slow disk delays log lines, never requests; if the
// writer falls more than 8 MiB behind, lines are dropped and counted instead of growing memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace meshgate::dp {

struct AccessRecord {
  std::string_view method;
  std::string_view target;
  std::string_view host;
  unsigned status = 0;
  uint64_t durationMicros = 0;
  std::string_view route;
  std::string_view upstream;
  std::string_view client;
  std::string_view requestId;
  std::string_view listener;
  std::string_view identity;  // the API key's name or the JWT's subject; never a key or token
};

// Appends `record` as one JSON object and a newline.
void formatAccessRecord(std::string& out, const AccessRecord& record);

// Replaces the value of every query parameter `name` in `target` with "redacted" (an API key
// read from the query must not reach the log).
void redactQueryParameter(std::string& target, std::string_view name);

class AccessLog {
 public:
  explicit AccessLog(std::string path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Thread-safe; takes the batch's contents (the string is left empty).
  void submit(std::string& batch);
  uint64_t dropped() const;

 private:
  void writeLoop();

  const std::string path_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;
  uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace meshgate::dp
