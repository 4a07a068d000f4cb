// The Prometheus text exposition format (version 0.0.4) of collected metric families, written
// straight into a std::string: what /metrics serves.
//
// prometheus-cpp's TextSerializer writes through a std::ostream (a virtual call and a locale
// lookup per piece, a stream-formatted double per value); with 10k series that was about a
// third of a scrape's CPU. This writer produces the same text, byte for byte, for every family
// prometheus-cpp can collect (tests/unit/text_exposition_test.cc compares the two), except
// where TextSerializer breaks the format: it does not escape a HELP text, this writer escapes
// backslash and newline there as the format requires.
#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace mailrelay {

// Puts families in name order (stable: families of one name keep their collection order), the
// labels of every series in label-name order, and the series of every family in the order of
// their label lists (name, then value, label by label). prometheus-cpp collects series in hash
// order; sorted output is stable for people, diffs and golden files.
void SortForExposition(std::vector<prometheus::MetricFamily>* families);

// Appends the text exposition of `families`, in the order given, to *out.
void AppendTextExposition(const std::vector<prometheus::MetricFamily>& families, std::string* out);

// A sample value as the text format writes it: "Nan", "+Inf", "-Inf", or the shortest decimal
// text that reads back as the same double (e.g. "7", "0.25", "1.5e+21").
void AppendSampleValue(double value, std::string* out);

}  // namespace mailrelay
