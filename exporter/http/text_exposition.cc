#include "http/text_exposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <string_view>
#include <utility>

namespace mailrelay {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

bool LabelLess(const ClientMetric::Label& a, const ClientMetric::Label& b) {
  int c = a.name.compare(b.name);
  return c != 0 ? c < 0 : a.value < b.value;
}

bool LabelNameLess(const ClientMetric::Label& a, const ClientMetric::Label& b) {
  return a.name < b.name;
}

bool SeriesLess(const ClientMetric& a, const ClientMetric& b) {
  return std::lexicographical_compare(a.label.begin(), a.label.end(), b.label.begin(),
                                      b.label.end(), LabelLess);
}

// The first 8 bytes of `s`, zero-padded, as a big-endian number: where two of them differ,
// they order the strings as std::string's operator< does (bytes compared as unsigned char; a
// string that is a prefix of another comes first).
std::uint64_t OrderPrefix(std::string_view s) {
  unsigned char bytes[8] = {};
  std::memcpy(bytes, s.data(), std::min<std::size_t>(s.size(), 8));
  std::uint64_t v = 0;
  for (unsigned char b : bytes) v = (v << 8) | b;
  return v;
}

void SortSeries(std::vector<ClientMetric>* metrics) {
  const std::size_t n = metrics->size();
  if (n == 0) return;
  // Where every series has the label names of the first, in the same order, and no value holds
  // a NUL byte, the values joined by NULs order the series as their label lists do (a value
  // that is a prefix of another ends in the NUL, the lowest byte). They are written one after
  // the other into `keys`; elsewhere the keys stay empty and the full comparison decides.
  bool flat = true;
  std::size_t key_bytes = 0;
  for (auto& m : *metrics) {
    // prometheus-cpp's families hold their labels in a std::map: already in name order.
    if (!std::is_sorted(m.label.begin(), m.label.end(), LabelNameLess)) {
      std::stable_sort(m.label.begin(), m.label.end(), LabelNameLess);
    }
    const auto& first = metrics->front().label;
    flat =
        flat && m.label.size() == first.size() &&
        std::equal(m.label.begin(), m.label.end(), first.begin(), [](const auto& x, const auto& y) {
          return x.name == y.name && x.value.find('\0') == std::string::npos;
        });
    for (const auto& label : m.label) key_bytes += label.value.size() + 1;
  }
  // Sort small records: the first 8 bytes of the key as a number, which settles most
  // comparisons, then the whole key, then (keys equal or not built) the full comparison.
  // Label sets are unique within a family; the index breaks ties all the same, so the order
  // never depends on the sort algorithm.
  struct Record {
    std::uint64_t prefix;
    std::string_view key;
    std::uint32_t index;
  };
  std::string keys;
  std::vector<std::size_t> ends(n, 0);
  if (flat) {
    keys.reserve(key_bytes);
    for (std::size_t i = 0; i < n; ++i) {
      for (const auto& label : (*metrics)[i].label) {
        keys += label.value;
        keys += '\0';
      }
      ends[i] = keys.size();
    }
  }
  std::vector<Record> records(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    std::string_view key(keys.data() + begin, ends[i] - begin);
    records[i] = {OrderPrefix(key), key, static_cast<std::uint32_t>(i)};
  }
  auto record_less = [metrics](const Record& a, const Record& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (int c = a.key.compare(b.key); c != 0) return c < 0;
    const ClientMetric& ma = (*metrics)[a.index];
    const ClientMetric& mb = (*metrics)[b.index];
    if (SeriesLess(ma, mb)) return true;
    if (SeriesLess(mb, ma)) return false;
    return a.index < b.index;
  };
  if (std::is_sorted(records.begin(), records.end(), record_less)) return;
  std::sort(records.begin(), records.end(), record_less);
  // Apply the permutation in place, one cycle at a time: each series moves once, and no second
  // vector of (large) ClientMetrics is allocated.
  std::vector<bool> placed(n, false);
  for (std::size_t start = 0; start < n; ++start) {
    if (placed[start] || records[start].index == start) continue;
    ClientMetric held = std::move((*metrics)[start]);
    std::size_t to = start;
    while (true) {
      placed[to] = true;
      std::size_t from = records[to].index;
      if (from == start) break;
      (*metrics)[to] = std::move((*metrics)[from]);
      to = from;
    }
    (*metrics)[to] = std::move(held);
  }
}

// A label value: backslash, double quote and newline escaped.
void AppendLabelValue(std::string_view value, std::string* out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' || c == '"' || c == '\n') {
      out->append(value.data() + start, i - start);
      out->push_back('\\');
      out->push_back(c == '\n' ? 'n' : c);
      start = i + 1;
    }
  }
  out->append(value.data() + start, value.size() - start);
}

// A HELP text: backslash and newline escaped.
void AppendHelp(std::string_view help, std::string* out) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendUnsigned(std::uint64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Series name, suffix and labels (with one extra label for buckets and quantiles), then a
// space. The extra value is text already formatted.
void AppendHead(const MetricFamily& family, const ClientMetric& metric, std::string_view suffix,
                std::string_view extra_name, std::string_view extra_value, std::string* out) {
  out->append(family.name);
  out->append(suffix);
  if (!metric.label.empty() || !extra_name.empty()) {
    out->push_back('{');
    bool first = true;
    for (const auto& label : metric.label) {
      if (!first) out->push_back(',');
      first = false;
      out->append(label.name);
      out->append("=\"");
      AppendLabelValue(label.value, out);
      out->push_back('"');
    }
    if (!extra_name.empty()) {
      if (!first) out->push_back(',');
      out->append(extra_name);
      out->append("=\"");
      AppendLabelValue(extra_value, out);
      out->push_back('"');
    }
    out->push_back('}');
  }
  out->push_back(' ');
}

void AppendTail(const ClientMetric& metric, std::string* out) {
  if (metric.timestamp_ms != 0) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, metric.timestamp_ms);
    out->push_back(' ');
    out->append(buf, static_cast<std::size_t>(r.ptr - buf));
  }
  out->push_back('\n');
}

void AppendSample(const MetricFamily& family, const ClientMetric& metric, double value,
                  std::string* out) {
  AppendHead(family, metric, {}, {}, {}, out);
  AppendSampleValue(value, out);
  AppendTail(metric, out);
}

// The _count and _sum lines of a summary or histogram.
void AppendCountAndSum(const MetricFamily& family, const ClientMetric& metric, std::uint64_t count,
                       double sum, std::string* out) {
  AppendHead(family, metric, "_count", {}, {}, out);
  AppendUnsigned(count, out);
  AppendTail(metric, out);
  AppendHead(family, metric, "_sum", {}, {}, out);
  AppendSampleValue(sum, out);
  AppendTail(metric, out);
}

void AppendSummary(const MetricFamily& family, const ClientMetric& metric, std::string* out) {
  const auto& summary = metric.summary;
  AppendCountAndSum(family, metric, summary.sample_count, summary.sample_sum, out);
  std::string quantile;
  for (const auto& q : summary.quantile) {
    quantile.clear();
    AppendSampleValue(q.quantile, &quantile);
    AppendHead(family, metric, {}, "quantile", quantile, out);
    AppendSampleValue(q.value, out);
    AppendTail(metric, out);
  }
}

void AppendHistogram(const MetricFamily& family, const ClientMetric& metric, std::string* out) {
  const auto& histogram = metric.histogram;
  AppendCountAndSum(family, metric, histogram.sample_count, histogram.sample_sum, out);
  double last = -std::numeric_limits<double>::infinity();
  std::string le;
  for (const auto& bucket : histogram.bucket) {
    le.clear();
    AppendSampleValue(bucket.upper_bound, &le);
    AppendHead(family, metric, "_bucket", "le", le, out);
    AppendUnsigned(bucket.cumulative_count, out);
    AppendTail(metric, out);
    last = bucket.upper_bound;
  }
  if (last != std::numeric_limits<double>::infinity()) {
    AppendHead(family, metric, "_bucket", "le", "+Inf", out);
    AppendUnsigned(histogram.sample_count, out);
    AppendTail(metric, out);
  }
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

void AppendFamily(const MetricFamily& family, std::string* out) {
  if (!family.help.empty()) {
    out->append("# HELP ");
    out->append(family.name);
    out->push_back(' ');
    AppendHelp(family.help, out);
    out->push_back('\n');
  }
  out->append("# TYPE ");
  out->append(family.name);
  out->push_back(' ');
  out->append(TypeName(family.type));
  out->push_back('\n');
  for (const auto& metric : family.metric) {
    switch (family.type) {
      case MetricType::Counter:
        AppendSample(family, metric, metric.counter.value, out);
        break;
      case MetricType::Gauge:
        AppendSample(family, metric, metric.gauge.value, out);
        break;
      case MetricType::Summary:
        AppendSummary(family, metric, out);
        break;
      case MetricType::Histogram:
        AppendHistogram(family, metric, out);
        break;
      case MetricType::Untyped:
        AppendSample(family, metric, metric.untyped.value, out);
        break;
    }
  }
}

}  // namespace

void SortForExposition(std::vector<MetricFamily>* families) {
  std::stable_sort(families->begin(), families->end(),
                   [](const MetricFamily& a, const MetricFamily& b) { return a.name < b.name; });
  for (auto& family : *families) SortSeries(&family.metric);
}

void AppendSampleValue(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("Nan");
    return;
  }
  if (std::isinf(value)) {
    out->append(value < 0 ? "-Inf" : "+Inf");
    return;
  }
  char buf[32];
  // Counters and most gauges hold integers: below 2^53 they print as the integer (what the
  // general format with 16 significant digits prints for them too), without the slower
  // floating-point conversion. -0 keeps its sign.
  constexpr double kExactInteger = 9007199254740992.0;  // 2^53
  if (std::fabs(value) < kExactInteger && value == std::trunc(value) && !std::signbit(value)) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::uint64_t>(value));
    out->append(buf, static_cast<std::size_t>(r.ptr - buf));
    return;
  }
  // printf's %.16g, as prometheus-cpp writes values (an ostream with precision 16), but
  // independent of the locale.
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general,
                         std::numeric_limits<double>::max_digits10 - 1);
  out->append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void AppendTextExposition(const std::vector<MetricFamily>& families, std::string* out) {
  for (const auto& family : families) AppendFamily(family, out);
}

}  // namespace mailrelay
