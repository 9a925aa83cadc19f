// Parts of the HTML report (html_report.h) kept in their own files.
#pragma once

#include <nlohmann/json.hpp>

#include "report/html_report.h"

namespace firstwall::report {

// The Gantt chart's data from jobs.csv and events.csv (gantt.cc): `d["gantt"]` = {`lanes` (job
// names, the most GPU-hours first, at most options.max_job_lanes, then ordered by first start),
// `jobs_total`, `attempts` [[lane, start_s, end_s, ended, gpus]] (ended: 0 completed, 1 failed,
// 2 preempted, 3 released, 4 cut), `events` [[lane, time_s, kind]] (kind: 0 failure, 1 restart,
// 2 checkpoint, 3 preemption, 4 host_stop), `events_total`, `events_shown`, `slowdowns`
// [[lane, from_s, to_s, speed]] (events.csv's slowdown rows: stretches below nominal speed, the
// lowest speed as a share; at most options.max_job_events), `slowdowns_total`}. Without jobs.csv
// a sentence goes into `absent` instead.
void AddGantt(const ReportFiles& files, const HtmlReportOptions& options, nlohmann::json& d,
              nlohmann::json& absent);

// The walls against scale (walls_report.cc), where `files` has them: `d["walls"]` from walls.json
// and walls_curve.csv = {`axis` {name, unit, from, to, base}, `runs`, `site`, `scenario_file`,
// `ranking` (walls.json's walls, in rank order, without their headroom), `headroom` (the other
// resources' headroom at the first wall: {resource: share}), `next_walls` [{raised, raise_key,
// raised_to, unit, from, next (resource, binds_at or null), gain, stop}], `curve` (the
// utilizations against the axis, as ReadSeries gives them)}; `d["walls_hours"]` from
// walls_hours.csv = {`series` (each resource's utilization by hour), `resources` [{resource,
// first_hours, bound_hours}]}. Throws InputError naming the file on a malformed one.
void AddWalls(const ReportFiles& files, const HtmlReportOptions& options, nlohmann::json& d);

// A sweep (sweep_report.cc): `d["sweep"]` = {`sweep_file`, `scenario_file`, `points` (runs),
// `runs` (rows of results.csv), `design_points`, `design_points_drawn` (at most 20,000), `varied`
// (the design's keys, results.csv's names with their SI units), `banded`, `outputs` (numeric
// outputs with a value somewhere: headline columns, the sweep's own outputs, walls columns),
// `columns` {name: value per design point; with bands the mean, and name_p05, name_p95}, and
// `first_wall_counts` {first_wall: {resource: runs}, walls_first: {...}}}. Throws InputError
// naming the file on a malformed manifest or table, or a shard's manifest.
void AddSweep(const ReportFiles& files, const HtmlReportOptions& options, nlohmann::json& d);

// A JSON file's value. Throws InputError naming the file when it cannot be read or parsed.
nlohmann::json ReadJsonFile(const std::string& path);

// A table downsampled for drawing (downsample.h): `x` (the column `x_name`, not decreasing), and
// those of `wanted` the file has; with `wue`, the WUE of each row from water_use_l_per_s and
// it_power_kw. Throws InputError (file:line) on a malformed file.
nlohmann::json ReadSeries(const std::string& path, const std::vector<std::string>& wanted,
                          const std::string& x_name, size_t max_buckets, bool wue);

}  // namespace firstwall::report
