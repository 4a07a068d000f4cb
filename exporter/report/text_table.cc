#include "report/text_table.h"

#include <algorithm>
#include <utility>

namespace mailrelay::report {

std::size_t DisplayWidth(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // not a continuation byte
  }
  return n;
}

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render(const std::string& indent) const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t i = 0; i < columns_.size(); ++i) width[i] = DisplayWidth(columns_[i].header);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], DisplayWidth(row[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text = indent;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::size_t pad = width[i] - DisplayWidth(cells[i]);
      if (i > 0) text += "  ";
      if (columns_[i].right) text.append(pad, ' ');
      text += cells[i];
      if (!columns_[i].right) text.append(pad, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  std::vector<std::string> headers;
  for (const auto& c : columns_) headers.push_back(c.header);
  line(headers);
  for (const auto& row : rows_) line(row);
  return out;
}

}  // namespace mailrelay::report
