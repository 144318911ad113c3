// Text exposition format 0.0.4 rendering.
#include "metrics/text_format.h"

#include <charconv>
#include <cmath>

namespace metrics {
namespace {

std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Appends `{a="x",b="y",le="0.5"}`; nothing at all when there are no labels.
void appendLabels(std::string& out, const Labels& labels, const char* le = nullptr) {
  if (labels.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const Label& label : labels) {
    if (!first) out += ',';
    first = false;
    out += label.name;
    out += "=\"";
    out += escapeLabelValue(label.value);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void appendLine(std::string& out, std::string_view name, std::string_view suffix,
                const Labels& labels, const std::string& value, const char* le = nullptr) {
  out += name;
  out += suffix;
  appendLabels(out, labels, le);
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Shortest round-trip form, as Go's strconv.FormatFloat(v, 'g', -1, 64) in the official clients:
  // 1, 0.25, 1e+06.
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string renderTextFormat(const std::vector<MetricFamilySnapshot>& families) {
  std::string out;
  for (const MetricFamilySnapshot& family : families) {
    out += "# HELP ";
    out += family.name;
    out += ' ';
    out += escapeHelp(family.help);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += metricTypeName(family.type);
    out += '\n';
    for (const Sample& sample : family.samples) {
      if (family.type != MetricType::kHistogram) {
        appendLine(out, family.name, "", sample.labels, formatValue(sample.value));
        continue;
      }
      const HistogramValue& histogram = sample.histogram;
      for (size_t i = 0; i < histogram.upperBounds.size(); ++i) {
        const std::string le = formatValue(histogram.upperBounds[i]);
        appendLine(out, family.name, "_bucket", sample.labels,
                   std::to_string(histogram.cumulativeCounts[i]), le.c_str());
      }
      const std::string count = std::to_string(histogram.count);
      appendLine(out, family.name, "_bucket", sample.labels, count, "+Inf");
      appendLine(out, family.name, "_sum", sample.labels, formatValue(histogram.sum));
      appendLine(out, family.name, "_count", sample.labels, count);
    }
  }
  return out;
}

}  // namespace metrics
