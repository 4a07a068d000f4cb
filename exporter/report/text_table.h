// TextTable: columns aligned with spaces, numbers right-aligned, for the text report.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mailrelay::report {

class TextTable {
 public:
  struct Column {
    std::string header;
    bool right = false;  // right-aligned (numbers)
  };
  explicit TextTable(std::vector<Column> columns);

  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  // Header and rows, each line starting with `indent`, columns two spaces apart, no trailing
  // blanks. Widths count UTF-8 characters, not bytes.
  std::string Render(const std::string& indent = "  ") const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of UTF-8 text (code points; the report has no wide characters of its own).
std::size_t DisplayWidth(const std::string& s);

}  // namespace mailrelay::report
