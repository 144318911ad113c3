// meshgatectl diff's report; see cli/diff_report.h.
#include "cli/diff_report.h"

#include <ostream>
#include <sstream>
#include <string>

#include "cli/yaml_writer.h"

namespace meshgate::cli {

namespace {

std::string shown(const std::optional<nlohmann::json>& value) {
  return value ? value->dump() : "(absent)";
}

void printIndented(const std::string& text, std::ostream& out) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    out << "    " << line << '\n';
}

const char* markOf(ObjectChange change) {
  switch (change) {
    case ObjectChange::kCreate:
      return "+";
    case ObjectChange::kUpdate:
      return "~";
    case ObjectChange::kDelete:
      return "-";
    case ObjectChange::kUpToDate:
    case ObjectChange::kLeftAsIs:
      break;
  }
  return "=";
}

const char* verdictOf(ObjectChange change) {
  switch (change) {
    case ObjectChange::kCreate:
      return "would be created";
    case ObjectChange::kUpdate:
      return "would be updated";
    case ObjectChange::kDelete:
      return "would be deleted";
    case ObjectChange::kUpToDate:
      return "up to date";
    case ObjectChange::kLeftAsIs:
      break;
  }
  return "left as it is";
}

}  // namespace

void printDiffReport(const std::vector<ObjectDiff>& diffs, std::ostream& out) {
  int created = 0, updated = 0, deleted = 0, unchanged = 0;
  for (const auto& diff : diffs) {
    out << markOf(diff.change) << ' ' << diff.kind << ' ' << diff.ns << '/' << diff.name << ": "
        << verdictOf(diff.change);
    if (!diff.note.empty()) out << " (" << diff.note << ')';
    out << '\n';
    switch (diff.change) {
      case ObjectChange::kCreate:
        created++;
        printIndented(toYaml(diff.object), out);
        break;
      case ObjectChange::kUpdate:
        updated++;
        for (const auto& field : diff.fields) {
          out << "    " << field.path << ": live " << shown(field.live) << ", rendered "
              << shown(field.rendered) << '\n';
        }
        break;
      case ObjectChange::kDelete:
        deleted++;
        break;
      case ObjectChange::kUpToDate:
      case ObjectChange::kLeftAsIs:
        unchanged++;
        break;
    }
  }
  out << created << " to create, " << updated << " to update, " << deleted << " to delete, "
      << unchanged << " unchanged\n";
}

}  // namespace meshgate::cli
