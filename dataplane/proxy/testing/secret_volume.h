// SecretVolume: a directory written the way the kubelet writes a Secret volume, for the sidecar's
// workload identity tests (workload_identity_watcher_test.cc, sidecar_server_test.cc). The files
// of one version live in `..<n>/`, `..data` points to it and each name is a symlink
// `name -> ..data/name`; an update writes version n+1, renames a new `..data` symlink over the old
// one (the atomic swap), adds or removes the names' symlinks, then removes version n. A volume of
// an optional Secret that does not exist is an empty directory. Throws std::runtime_error (through
// std::filesystem) when the disk refuses.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace meshgate::dp::testing {

class SecretVolume {
 public:
  // Creates `path` (empty: the Secret does not exist yet).
  explicit SecretVolume(std::string path) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
  }

  const std::string& path() const { return path_; }

  // The Secret now holds exactly `files` (name → content); empty: it was deleted.
  void update(const std::map<std::string, std::string>& files) {
    namespace fs = std::filesystem;
    const fs::path root(path_);
    const std::string previous = version_ > 0 ? "..v" + std::to_string(version_) : "";
    const std::string next = "..v" + std::to_string(++version_);
    fs::create_directory(root / next);
    for (const auto& [name, content] : files) {
      std::ofstream out(root / next / name, std::ios::binary | std::ios::trunc);
      out << content;
      if (!out) throw std::runtime_error("cannot write " + (root / next / name).string());
    }
    fs::create_symlink(next, root / "..data_tmp");
    fs::rename(root / "..data_tmp", root / "..data");
    for (const auto& [name, content] : files)
      if (!fs::is_symlink(root / name)) fs::create_symlink(fs::path("..data") / name, root / name);
    for (const auto& name : names_)
      if (!files.contains(name)) fs::remove(root / name);
    names_.clear();
    for (const auto& [name, content] : files)
      names_.insert(name);
    if (!previous.empty()) fs::remove_all(root / previous);
  }

 private:
  std::string path_;
  int version_ = 0;
  std::set<std::string> names_;
};

}  // namespace meshgate::dp::testing
