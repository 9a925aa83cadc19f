// Parts of the HTML report (html_report.h) kept in their own files.
#pragma once

#include <nlohmann/json.hpp>

#include "report/html_report.h"

namespace firstwall::report {

// The Gantt chart's data from jobs.csv and events.csv (gantt.cc): `d["gantt"]` = {`lanes` (job
// names, the most GPU-hours first, at most options.max_job_lanes, then ordered by first start),
// `jobs_total`, `attempts` [[lane, start_s, end_s, ended, gpus]] (ended: 0 completed, 1 failed,
// 2 preempted, 3 released, 4 cut), `events` [[lane, time_s, kind]] (kind: 0 failure, 1 restart,
// 2 checkpoint, 3 preemption, 4 host_stop), `events_total`, `events_shown`}. Without jobs.csv a
// sentence goes into `absent` instead.
void AddGantt(const ReportFiles& files, const HtmlReportOptions& options, nlohmann::json& d,
              nlohmann::json& absent);

}  // namespace firstwall::report
