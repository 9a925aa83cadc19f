// Cluster job traces read as published, each into JobSpecs in submit order. Every reader goes
// through core/text_input.h; a malformed row is an InputError at file:line:col saying what was
// expected. Rows that are well formed but cannot become a job (no GPU, never started, ...) are
// skipped and counted in TraceSummary, so an operator sees what the replay left out and why.
//
//   Alibaba GPU cluster trace v2023 (alibaba/clusterdata cluster-trace-gpu-v2023; Weng et al.,
//     "Beware of Fragmentation", USENIX ATC'23). openb_pod_list_*.csv, header
//     name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,
//     deletion_time,scheduled_time; times in seconds from the trace's start.
//       submit = creation_time; work = deletion_time - scheduled_time (the pod held its GPUs from
//       being scheduled until deleted, whatever its last phase); scheduled_time empty (phase
//       Pending: never placed) -> skipped as never_ran. num_gpu 0 -> skipped as cpu_only.
//       GPU sharing: gpu_milli is the thousandths of one GPU a one-GPU pod uses; such a pod takes
//       one whole GPU here (placement has no fractional GPUs) at gpu_activity gpu_milli / 1000.
//       Pods of several GPUs use whole GPUs (gpu_milli 1000; anything else is refused).
//       pod_phase Failed -> counted failed (kept unless keep_failed is false); Running: the pod
//       was still running when deleted, and those deleted at the trace's last instant are
//       counted censored (their work is a lower bound).
//       tenant = qos; priority from qos, Kubernetes' eviction order with Alibaba's latency-
//       sensitive class above Burstable (Koordinator's QoS ranking): BE 0, Burstable 1, LS 2,
//       Guaranteed 3. Only BE (best effort) is preemptible.
//     openb_node_list_*.csv (sn,cpu_milli,memory_mib,gpu,model): the trace cluster's GPUs
//       (6,212 on 1,213 GPU nodes in the default list), to scale the trace to a site.
//   Microsoft Philly cluster_job_log (msr-fiddle/philly-traces; Jeon et al., ATC'19): one JSON list
//     of jobs {status Pass|Killed|Failed, vc, jobid, user, submitted_time, attempts: [{start_time,
//     end_time, detail: [{ip, gpus: [...]}]}]}; times "YYYY-MM-DD HH:MM:SS", a missing time is
//     null, "" or "None". gpus = GPUs of the first attempt's detail; work = the last attempt's
//     end - start; observed_restarts = attempts - 1; tenant = vc. No attempts, or an attempt
//     without start -> never_ran; last attempt without end (running at the snapshot) ->
//     unfinished. Failed -> failed, Killed -> cancelled.
//   Helios cluster_log.csv (S-Lab-System-Group/HeliosData; Hu et al., SC'21): header with job_id,
//     user, vc, gpu_num, state, submit_time, start_time, end_time (jobname, cpu_num, node_num,
//     duration, queue may also appear, in any order); times "YYYY-MM-DD HH:MM:SS". work = end -
//     start; tenant = vc; gpu_num 0 -> cpu_only. FAILED, TIMEOUT, NODE_FAIL -> failed; CANCELLED
//     -> cancelled; COMPLETED and SUSPENDED kept as they ran.
//   SWF 2.2 (Parallel Workloads Archive, Feitelson et al., swf.html): 18 whitespace-separated
//     numbers a line, ';' comment lines (the header's "; MaxProcs: N" gives the machine's size),
//     -1 means missing. submit = field 2; work = run time (field 4); processors = allocated
//     (field 5), else requested (field 8), x gpus_per_processor rounded up (a machine of 8-GPU
//     nodes with 64 cores: 1/8); tenant = user (field 12) "u<id>", else group "g<id>", else
//     "unknown". Status 0 -> failed, 5 -> cancelled; 2, 3, 4 are the partial-execution lines of a
//     checkpointed or swapped job, whose summary line is read instead: skipped as partial_lines.
//     Queue numbers mean different things in each log, so priority stays 0.
//
// Trace time: Alibaba and SWF count from their own zero; Philly and Helios from their earliest
// submit. Every reader then, in this order: keeps the jobs submitted in [window_from, window_to)
// of trace time, moved to start at 0; drops failed and cancelled jobs if asked; divides the
// submit times by rate_factor (the same jobs, rate_factor times as often; to load a site of G GPUs
// as the trace loaded its own cluster of T GPUs, take G / T); treats jobs wider than max_gpus as
// `oversize` says. Submit times round to the nanosecond; ties keep the file's order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/sim_time.h"
#include "scheduler/job.h"

namespace firstwall::scheduler {

struct TraceOptions {
  double rate_factor = 1;                // > 0
  SimTime window_from;                   // trace time
  SimTime window_to = SimTime::Never();  // exclusive
  int max_gpus = 0;                      // the site's GPUs; 0: no cap
  enum class Oversize { kSkip, kClip };  // a job wider than max_gpus is skipped (it could
  Oversize oversize = Oversize::kSkip;   // never start), or clipped to max_gpus with its work
                                         // kept (the trace's shape, a smaller job)
  bool keep_failed = true;        // failed jobs held their GPUs until they failed: load is load
  bool keep_cancelled = true;     // so did cancelled (killed) ones
  double gpus_per_processor = 1;  // SWF only: GPUs per processor of the log's machine
};

// What a reader kept and what it left out, and why. Every job row lands in exactly one of
// jobs, cpu_only, never_ran, unfinished, zero_length, dropped_status, outside_window, oversize
// skipped (SWF partial_lines are not job rows).
struct TraceSummary {
  int64_t rows = 0;            // job rows read
  int64_t jobs = 0;            // JobSpecs returned
  int64_t cpu_only = 0;        // asked for no GPU
  int64_t never_ran = 0;       // never started (not placed, no attempt, no start or run time)
  int64_t unfinished = 0;      // started but no end in the trace (Philly: running at snapshot)
  int64_t zero_length = 0;     // ran for 0 s
  int64_t failed = 0;          // ended failed (of the jobs that ran in the window; kept or dropped)
  int64_t cancelled = 0;       // cancelled or killed by their user (idem)
  int64_t dropped_status = 0;  // failed or cancelled jobs left out by keep_failed/keep_cancelled
  int64_t outside_window = 0;
  int64_t oversize_skipped = 0;
  int64_t oversize_clipped = 0;  // kept with max_gpus GPUs
  int64_t partial_lines = 0;     // SWF: partial-execution lines (status 2-4)
  int64_t censored = 0;          // kept, still running when the trace ended (work: lower bound)
  double gpu_hours = 0;          // sum of gpus x work over the returned jobs
  int trace_gpus = 0;            // the trace cluster's GPUs where the file says (SWF MaxProcs x
                                 // gpus_per_processor, rounded up); 0: unknown
};

struct JobTrace {
  std::vector<JobSpec> jobs;  // by submit time (ties in file order)
  TraceSummary summary;
};

// The GPU cluster of an Alibaba node list.
struct TraceCluster {
  int nodes = 0;
  int gpu_nodes = 0;
  int gpus = 0;
  std::map<std::string, int> gpus_by_model;  // "P100": 268, ...
};

// Readers of files; each throws InputError at path:line:col for anything malformed, and for a
// trace with no job rows. Parse*: the same from text (`path` only names it in messages).
JobTrace ReadAlibabaPods(const std::string& path, const TraceOptions& options);
JobTrace ParseAlibabaPods(const std::string& text, const std::string& path,
                          const TraceOptions& options);
TraceCluster ReadAlibabaNodes(const std::string& path);
TraceCluster ParseAlibabaNodes(const std::string& text, const std::string& path);
JobTrace ReadPhillyJobLog(const std::string& path, const TraceOptions& options);
JobTrace ParsePhillyJobLog(const std::string& text, const std::string& path,
                           const TraceOptions& options);
JobTrace ReadHeliosLog(const std::string& path, const TraceOptions& options);
JobTrace ParseHeliosLog(const std::string& text, const std::string& path,
                        const TraceOptions& options);
JobTrace ReadSwf(const std::string& path, const TraceOptions& options);
JobTrace ParseSwf(const std::string& text, const std::string& path, const TraceOptions& options);

// "1,234 jobs (12,345 GPU-h); skipped: 1,088 CPU-only, 897 never ran, ..." for logs and reports.
std::string Describe(const TraceSummary& summary);

}  // namespace firstwall::scheduler
