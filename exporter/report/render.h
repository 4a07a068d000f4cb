// Renders ReportData: aligned text tables for people, JSON for scripts. The JSON keys are a
// stable interface (docs/report.md): keys are only ever added, and report_version changes when
// one is renamed or removed.
#pragma once

#include <string>

#include "report/report_data.h"

namespace mailrelay::report {

inline constexpr int kReportJsonVersion = 1;

std::string RenderText(const ReportData& data);
std::string RenderJson(const ReportData& data);

}  // namespace mailrelay::report
