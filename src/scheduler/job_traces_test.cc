// The trace readers on small files whose JobSpecs are worked out by hand, on bad rows (each
// refused at file:line:col), on the options, and on the real Alibaba pod list.
#include "scheduler/job_traces.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>

#include "core/error.h"

namespace firstwall::scheduler {
namespace {

constexpr int64_t kS = 1'000'000'000;  // ns per second

SimTime Sec(double s) { return SimTime::FromNanoseconds(static_cast<int64_t>(s * 1e9)); }

// "path:line:col: message" of the InputError a read throws, or "no error".
std::string ErrorOf(const std::function<void()>& read) {
  try {
    read();
  } catch (const InputError& e) {
    return e.where().ToString() + ": " + e.message();
  }
  return "no error";
}

// ---- Alibaba --------------------------------------------------------------------------------

const std::string kPodHeader =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
    "deletion_time,scheduled_time\n";
// p2 is CPU-only, p4 never placed; p5 is still running at the last deletion (9000 s).
const std::string kPods = kPodHeader +
                          "p0,12000,16384,1,1000,,LS,Running,0,3600,0\n"
                          "p1,6000,12288,1,460,,BE,Succeeded,100,1300,200\n"
                          "p2,32000,65536,0,0,,BE,Running,150,500,150\n"
                          "p3,88000,327680,8,1000,V100M16|V100M32,Burstable,Failed,200,7400,400\n"
                          "p4,4000,8192,1,1000,,Guaranteed,Pending,300,900,\n"
                          "p5,4000,8192,2,1000,,LS,Running,250,9000,260\n";

JobTrace Pods(const TraceOptions& o = {}) { return ParseAlibabaPods(kPods, "pods.csv", o); }

TEST(JobTraces, AlibabaPodsBecomeHandCheckedJobs) {
  const JobTrace t = Pods();
  ASSERT_EQ(t.jobs.size(), 4u);
  // By creation time: p0 (0 s), p1 (100 s), p3 (200 s), p5 (250 s).
  const JobSpec &p0 = t.jobs[0], &p1 = t.jobs[1], &p3 = t.jobs[2], &p5 = t.jobs[3];
  EXPECT_EQ(p0.name, "p0");
  EXPECT_EQ(p0.submit, SimTime());
  EXPECT_EQ(p0.work.ns(), 3600 * kS);
  EXPECT_EQ(p0.tenant, "LS");
  EXPECT_EQ(p0.priority, 2);
  EXPECT_FALSE(p0.preemptible);
  EXPECT_EQ(p1.name, "p1");
  EXPECT_EQ(p1.submit.ns(), 100 * kS);
  EXPECT_EQ(p1.work.ns(), 1100 * kS);  // deletion 1300 - scheduled 200
  EXPECT_EQ(p1.gpus, 1);
  EXPECT_DOUBLE_EQ(p1.gpu_activity, 0.46);  // 460 thousandths of one GPU
  EXPECT_EQ(p1.priority, 0);
  EXPECT_TRUE(p1.preemptible);
  EXPECT_EQ(p3.gpus, 8);
  EXPECT_EQ(p3.work.ns(), 7000 * kS);
  EXPECT_EQ(p3.tenant, "Burstable");
  EXPECT_EQ(p3.priority, 1);
  EXPECT_DOUBLE_EQ(p3.gpu_activity, 1.0);
  EXPECT_EQ(p5.gpus, 2);
  EXPECT_EQ(p5.work.ns(), 8740 * kS);
  const TraceSummary& s = t.summary;
  EXPECT_EQ(s.rows, 6);
  EXPECT_EQ(s.jobs, 4);
  EXPECT_EQ(s.cpu_only, 1);
  EXPECT_EQ(s.never_ran, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.censored, 1);
  // 1 x 3600 + 1 x 1100 + 8 x 7000 + 2 x 8740 GPU-s = 78,180 GPU-s.
  EXPECT_NEAR(s.gpu_hours, 78180.0 / 3600, 1e-9);
  std::printf("%s\n", Describe(s).c_str());
}

TEST(JobTraces, AlibabaNodeListCountsTheClustersGpus) {
  const TraceCluster c = ParseAlibabaNodes(
      "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,262144,0,\nn1,64000,262144,2,P100\n"
      "n2,96000,786432,8,V100M32\nn3,64000,262144,2,P100\n",
      "nodes.csv");
  EXPECT_EQ(c.nodes, 4);
  EXPECT_EQ(c.gpu_nodes, 3);
  EXPECT_EQ(c.gpus, 12);
  EXPECT_EQ(c.gpus_by_model.at("P100"), 4);
  EXPECT_EQ(c.gpus_by_model.at("V100M32"), 8);
}

TEST(JobTraces, AlibabaBadRowsAreRefusedWhereTheyAre) {
  auto pods = [](const std::string& row) {
    return ErrorOf([&] { ParseAlibabaPods(kPodHeader + row + "\n", "pods.csv", {}); });
  };
  EXPECT_EQ(pods("p0,12000,16384,1,1000,,LS,Running,0,3600"),
            "pods.csv:2:1: expected 11 comma-separated fields as in the header, got 10");
  EXPECT_EQ(pods("p0,12000,16384,one,1000,,LS,Running,0,3600,0"),
            "pods.csv:2:16: expected num_gpu as a whole number from 0 to 100000000, got 'one'");
  EXPECT_EQ(pods("p0,12000,16384,1,1000,,LS,Running,-5,3600,0"),
            "pods.csv:2:35: expected creation_time in seconds from 0 to 631152000, got '-5'");
  EXPECT_EQ(pods("p0,12000,16384,1,1000,,LS,Running,0,3600,4000"),
            "pods.csv:2:37: deletion_time is before scheduled_time");
  EXPECT_EQ(pods("p0,12000,16384,1,1000,,XX,Running,0,3600,0"),
            "pods.csv:2:24: expected qos BE, Burstable, LS or Guaranteed, got 'XX'");
  EXPECT_EQ(pods("p0,12000,16384,2,500,,LS,Running,0,3600,0"),
            "pods.csv:2:18: expected gpu_milli 1000 for a pod of 2 GPUs, got 500");
  EXPECT_EQ(ErrorOf([] { ParseAlibabaPods("p0,1,1,1,1000,,LS,Running,0,1,0\n", "pods.csv", {}); }),
            "pods.csv:1:1: expected the Alibaba pod list header 'name,cpu_milli,memory_mib,num_gpu,"
            "gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time', got "
            "'p0,1,1,1,1000,,LS,Running,0,1,0'");
  EXPECT_EQ(ErrorOf([] { ParseAlibabaPods(kPodHeader, "pods.csv", {}); }),
            "pods.csv:1: the trace has no jobs");
  EXPECT_EQ(
      ErrorOf([] { ParseAlibabaNodes("sn,cpu_milli,memory_mib,gpu,model\nn1,1,1,2\n", "n.csv"); }),
      "n.csv:2:1: expected 5 comma-separated fields as in the header, got 4");
}

TEST(JobTraces, RateScalingAndWindow) {
  TraceOptions o;
  o.window_from = Sec(100);
  o.window_to = Sec(300);
  o.rate_factor = 2;
  const JobTrace t = Pods(o);
  // p1 (100 s), p3 (200 s), p5 (250 s) are in [100 s, 300 s); moved to 0 and run twice as fast.
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.jobs[0].name, "p1");
  EXPECT_EQ(t.jobs[0].submit, SimTime());
  EXPECT_EQ(t.jobs[1].submit.ns(), 50 * kS);
  EXPECT_EQ(t.jobs[2].submit.ns(), 75 * kS);
  EXPECT_EQ(t.jobs[2].work.ns(), 8740 * kS);  // work is not scaled: the same jobs, more often
  EXPECT_EQ(t.summary.outside_window, 1);
  EXPECT_EQ(t.summary.jobs, 3);
}

TEST(JobTraces, OversizeJobsAreSkippedOrClippedAndStatusesDropped) {
  TraceOptions o;
  o.max_gpus = 4;
  JobTrace t = Pods(o);
  EXPECT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.summary.oversize_skipped, 1);
  o.oversize = TraceOptions::Oversize::kClip;
  t = Pods(o);
  ASSERT_EQ(t.jobs.size(), 4u);
  EXPECT_EQ(t.jobs[2].name, "p3");
  EXPECT_EQ(t.jobs[2].gpus, 4);
  EXPECT_EQ(t.summary.oversize_clipped, 1);
  o = {};
  o.keep_failed = false;
  t = Pods(o);
  EXPECT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.summary.dropped_status, 1);
  EXPECT_EQ(t.summary.failed, 1);
}

// The published Alibaba pod list, as shipped: 8,152 pods over 149 days on 6,212 GPUs.
TEST(JobTraces, RealAlibabaPodListReads) {
  const std::string dir = "data/traces/alibaba-gpu-v2023/";
  if (!std::ifstream(dir + "openb_pod_list_default.csv")) {
    GTEST_SKIP() << dir << "openb_pod_list_default.csv absent";
  }
  const JobTrace t = ReadAlibabaPods(dir + "openb_pod_list_default.csv", {});
  const TraceCluster c = ReadAlibabaNodes(dir + "openb_node_list_gpu_node.csv");
  const TraceSummary& s = t.summary;
  std::printf("Alibaba GPU v2023 default pod list: %s\n", Describe(s).c_str());
  std::printf("  cluster: %d GPUs on %d nodes; span %.1f days\n", c.gpus, c.gpu_nodes,
              t.jobs.back().submit.seconds() / 86400);
  // Counted independently from the CSV (awk): 1,088 CPU-only pods, 861 GPU pods never scheduled,
  // 6,203 that ran (1,869 failed; 32 still running at the last deletion, 12,902,960 s), holding
  // 59,612.2 GPU-hours.
  EXPECT_EQ(s.rows, 8152);
  EXPECT_EQ(s.cpu_only, 1088);
  EXPECT_EQ(s.never_ran, 861);
  EXPECT_EQ(s.jobs, 6203);
  EXPECT_EQ(s.failed, 1869);
  EXPECT_EQ(s.censored, 32);
  EXPECT_NEAR(s.gpu_hours, 59612.211, 0.001);
  EXPECT_EQ(c.gpus, 6212);
  EXPECT_EQ(c.gpu_nodes, 1213);
  for (size_t i = 1; i < t.jobs.size(); ++i) ASSERT_LE(t.jobs[i - 1].submit, t.jobs[i].submit);
  // Scaled to a site of 62,120 GPUs (10x the trace cluster): ten times the arrival rate.
  TraceOptions o;
  o.rate_factor = 62120.0 / c.gpus;
  const JobTrace fast = ReadAlibabaPods(dir + "openb_pod_list_default.csv", o);
  EXPECT_NEAR(fast.jobs.back().submit.seconds(), t.jobs.back().submit.seconds() / 10, 1e-6);
  // One week of it, days 140 to 147 (awk: 1,138 pods that ran, created from 12,096,091 s to
  // 12,700,799 s, 2,233.454 GPU-h), replayed twice as fast from 0.
  o.rate_factor = 2;
  o.window_from = SimTime::FromNanoseconds(140 * 86400 * kS);
  o.window_to = SimTime::FromNanoseconds(147 * 86400 * kS);
  const JobTrace week = ReadAlibabaPods(dir + "openb_pod_list_default.csv", o);
  std::printf("  days 140-147 at twice the rate: %s\n", Describe(week.summary).c_str());
  EXPECT_EQ(week.summary.jobs, 1138);
  EXPECT_EQ(week.summary.outside_window, 6203 - 1138);
  const TraceSummary& w = week.summary;  // every row lands in exactly one count
  EXPECT_EQ(w.jobs + w.cpu_only + w.never_ran + w.unfinished + w.zero_length + w.dropped_status +
                w.outside_window + w.oversize_skipped,
            w.rows);
  EXPECT_NEAR(week.summary.gpu_hours, 2233.454, 0.001);
  EXPECT_EQ(week.jobs.front().submit.ns(), (12096091 - 140 * 86400) * kS / 2);
  EXPECT_EQ(week.jobs.back().submit.ns(), (12700799 - 140 * 86400) * kS / 2);
}

// ---- Philly -----------------------------------------------------------------------------------

TEST(JobTraces, PhillyJobLogBecomesHandCheckedJobs) {
  const JobTrace t = ReadPhillyJobLog("src/scheduler/testdata/philly_cluster_job_log.json", {});
  ASSERT_EQ(t.jobs.size(), 3u);
  // Trace time starts at the earliest submit, 2017-10-07 00:11:39 (the Killed job).
  const JobSpec &killed = t.jobs[0], &pass = t.jobs[1], &failed = t.jobs[2];
  EXPECT_EQ(killed.name, "application_1506638472019_14102");
  EXPECT_EQ(killed.submit, SimTime());
  EXPECT_EQ(killed.work.ns(), 1800 * kS);
  EXPECT_EQ(killed.gpus, 1);
  EXPECT_EQ(pass.tenant, "ee9e8c");
  EXPECT_EQ(pass.submit.ns(), 3600 * kS);
  // Last attempt: 2017-10-07 01:13:30 to 2017-10-09 06:53:12 = 2 d 5 h 39 min 42 s.
  EXPECT_EQ(pass.work.ns(), (2 * 86400 + 5 * 3600 + 39 * 60 + 42) * kS);
  EXPECT_EQ(pass.gpus, 8);
  EXPECT_EQ(pass.observed_restarts, 1);
  EXPECT_EQ(failed.tenant, "b436b2");
  EXPECT_EQ(failed.gpus, 16);  // two machines of 8
  EXPECT_EQ(failed.submit.ns(), 5400 * kS);
  EXPECT_EQ(failed.work.ns(), 5400 * kS);
  EXPECT_EQ(failed.observed_restarts, 0);
  const TraceSummary& s = t.summary;
  EXPECT_EQ(s.rows, 6);
  EXPECT_EQ(s.never_ran, 2);  // no attempt; an attempt whose start is "None"
  EXPECT_EQ(s.unfinished, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.cancelled, 1);
  EXPECT_NEAR(s.gpu_hours, (1800.0 + 8 * 193182.0 + 16 * 5400.0) / 3600, 1e-9);
  std::printf("%s\n", Describe(s).c_str());
}

TEST(JobTraces, PhillyBadJobsAreRefusedWhereTheyAre) {
  auto log = [](const std::string& text) {
    return ErrorOf([&] { ParsePhillyJobLog(text, "log.json", {}); });
  };
  const std::string ok_attempt =
      R"({"start_time": "2017-10-07 01:00:00", "end_time": "2017-10-07 02:00:00", "detail": [{"ip": "m1", "gpus": ["gpu0"]}]})";
  auto job = [](const std::string& fields) {
    return "[\n  {\"status\": \"Pass\", \"vc\": \"v\", \"jobid\": \"j\", \"user\": \"u\",\n   " +
           fields + "}\n]\n";
  };
  EXPECT_EQ(
      log(job("\"submitted_time\": \"2017-10-07 00:00:00\", \"attempts\": [" + ok_attempt + "]")),
      "no error");
  EXPECT_EQ(log("{\"jobs\": []}"),
            "log.json:1:1: expected a JSON list of jobs ('[') as in Philly's cluster_job_log");
  EXPECT_EQ(log(job("\"submitted_time\": 17, \"attempts\": []")),
            "log.json:3:4: expected 'submitted_time' as a date and time \"YYYY-MM-DD HH:MM:SS\" or "
            "null, got 17");
  EXPECT_EQ(log(job("\"submitted_time\": \"2017-10-07 00:00:00\", \"attempts\": [{\"start_time\": "
                    "\"2017-10-07 02:00:00\", \"end_time\": \"2017-10-07 01:00:00\", \"detail\": "
                    "[]}]")),
            "log.json:3:96: attempt 1: end_time is before start_time");
  EXPECT_EQ(log(job("\"attempts\": []")), "log.json:2:3: missing 'submitted_time'");
  EXPECT_EQ(log(job("\"submitted_time\": \"2017-10-07 00:00:00\", \"attempts\": [] ,")),
            "log.json:3:61: expected a JSON job object");
  EXPECT_EQ(log("[\n  {\"status\": \"Pass\"}\n  {\"status\": \"Pass\"}\n]"),
            "log.json:2:3: missing 'vc'");
  EXPECT_EQ(log("[\n  {\"status\": \"Lost\", \"vc\": \"v\"}\n]"),
            "log.json:2:4: expected 'status' Pass, Killed or Failed, got \"Lost\"");
  EXPECT_EQ(log("[\n  {\"status\": \"Pass\", \"vc\": \"v\", \"jobid\": \"j\", \"user\": \"u\", "
                "\"attempts\": [], \"submitted_time\": \"2017-10-07 00:00:00\"}\n  {}]"),
            "log.json:3:3: expected ',' or ']' after a job");
  EXPECT_EQ(log("[\n"), "log.json:1:3: the list of jobs is not closed (']')");
  EXPECT_EQ(log("[]"), "log.json:1:2: the trace has no jobs");
}

// ---- Helios -----------------------------------------------------------------------------------

TEST(JobTraces, HeliosLogBecomesHandCheckedJobs) {
  const JobTrace t = ReadHeliosLog("src/scheduler/testdata/helios_cluster_log.csv", {});
  ASSERT_EQ(t.jobs.size(), 4u);
  // Trace time starts at the first submit, 2020-06-09 18:41:01.
  EXPECT_EQ(t.jobs[0].name, "1425511");
  EXPECT_EQ(t.jobs[0].tenant, "vcJkd");
  EXPECT_EQ(t.jobs[0].submit, SimTime());
  EXPECT_EQ(t.jobs[0].work.ns(), 36848 * kS);  // the trace's own duration column agrees
  EXPECT_EQ(t.jobs[1].gpus, 4);
  EXPECT_EQ(t.jobs[1].submit.ns(), 26 * kS);
  EXPECT_EQ(t.jobs[1].work.ns(), 249 * kS);
  EXPECT_EQ(t.jobs[2].submit.ns(), 27 * kS);
  EXPECT_EQ(t.jobs[2].work.ns(), 675233 * kS);
  EXPECT_EQ(t.jobs[3].gpus, 16);
  EXPECT_EQ(t.jobs[3].submit.ns(), 539 * kS);
  EXPECT_EQ(t.jobs[3].work.ns(), 7200 * kS);
  const TraceSummary& s = t.summary;
  EXPECT_EQ(s.rows, 6);
  EXPECT_EQ(s.cpu_only, 1);
  EXPECT_EQ(s.never_ran, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.cancelled, 1);
  EXPECT_NEAR(s.gpu_hours, (36848.0 + 4 * 249 + 675233 + 16 * 7200) / 3600, 1e-9);
  std::printf("%s\n", Describe(s).c_str());
}

TEST(JobTraces, HeliosBadRowsAreRefusedWhereTheyAre) {
  const std::string header =
      "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,"
      "queue\n";
  auto log = [&](const std::string& row) {
    return ErrorOf([&] { ParseHeliosLog(header + row + "\n", "log.csv", {}); });
  };
  EXPECT_EQ(log("1,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-09 18:41:01,2020-06-10 "
                "04:55:09,36848,0"),
            "no error");
  EXPECT_EQ(log("1,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-09 18:41:01"),
            "log.csv:2:1: expected 12 comma-separated fields as in the header, got 9");
  EXPECT_EQ(log("1,u,vc,x,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-09 18:41:01,2020-06-10 "
                "04:55:09,36848,0"),
            "log.csv:2:8: expected gpu_num as a whole number from 0 to 100000000, got 'x'");
  EXPECT_EQ(log("1,u,vc,-2,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-09 18:41:01,2020-06-10 "
                "04:55:09,36848,0"),
            "log.csv:2:8: expected gpu_num as a whole number from 0 to 100000000, got '-2'");
  EXPECT_EQ(log("1,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-10 04:55:09,2020-06-09 "
                "18:41:01,36848,0"),
            "log.csv:2:64: end_time is before start_time");
  EXPECT_EQ(log("1,u,vc,1,1,1,COMPLETED,2020-02-30 18:41:01,2020-06-09 18:41:01,2020-06-10 "
                "04:55:09,36848,0"),
            "log.csv:2:24: expected submit_time as a date and time 'YYYY-MM-DD HH:MM:SS', got "
            "'2020-02-30 18:41:01'");
  EXPECT_EQ(log("1,u,vc,1,1,1,DONE,2020-06-09 18:41:01,2020-06-09 18:41:01,2020-06-10 "
                "04:55:09,36848,0"),
            "log.csv:2:14: expected state COMPLETED, CANCELLED, FAILED, TIMEOUT, NODE_FAIL or "
            "SUSPENDED, got 'DONE'");
  EXPECT_EQ(ErrorOf([] {
              ParseHeliosLog("1,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:01,,,0,0\n", "log.csv", {});
            }),
            "log.csv:1:1: unknown column '1'");
  EXPECT_EQ(ErrorOf([] { ParseHeliosLog("job_id,user,vc,gpu_num\n", "log.csv", {}); }),
            "log.csv:1:1: the header has no 'state' column");
}

// ---- SWF --------------------------------------------------------------------------------------

TEST(JobTraces, SwfBecomesHandCheckedJobs) {
  TraceOptions o;
  o.gpus_per_processor = 0.125;  // 8 GPUs per 64-processor machine
  const JobTrace t = ReadSwf("src/scheduler/testdata/sample.swf", o);
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.jobs[0].name, "job1");
  EXPECT_EQ(t.jobs[0].tenant, "u3");
  EXPECT_EQ(t.jobs[0].gpus, 2);  // 16 processors / 8
  EXPECT_EQ(t.jobs[0].work.ns(), 3600 * kS);
  EXPECT_EQ(t.jobs[1].name, "job3");
  EXPECT_EQ(t.jobs[1].gpus, 1);  // 4 processors: half a GPU, rounded up
  EXPECT_EQ(t.jobs[1].submit.ns(), 120 * kS);
  EXPECT_EQ(t.jobs[2].name, "job4");
  EXPECT_EQ(t.jobs[2].tenant, "g7");  // user -1: the group
  EXPECT_EQ(t.jobs[2].gpus, 4);
  EXPECT_EQ(t.jobs[2].work.ns(), 1000 * kS);  // the summary line, not the partial execution
  const TraceSummary& s = t.summary;
  EXPECT_EQ(s.rows, 5);
  EXPECT_EQ(s.partial_lines, 1);
  EXPECT_EQ(s.never_ran, 1);
  EXPECT_EQ(s.zero_length, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.trace_gpus, 8);  // MaxProcs 64 / 8
  EXPECT_NEAR(s.gpu_hours, (2 * 3600.0 + 900 + 4 * 1000) / 3600, 1e-9);
  std::printf("%s\n", Describe(s).c_str());
}

TEST(JobTraces, SwfBadLinesAreRefusedWhereTheyAre) {
  auto swf = [](const std::string& line) {
    return ErrorOf([&] { ParseSwf("; MaxProcs: 64\n" + line + "\n", "log.swf", {}); });
  };
  EXPECT_EQ(swf("1 0 10 3600 16 -1 -1 16 7200 -1 1 3 1 -1 1 -1 -1 -1"), "no error");
  EXPECT_EQ(swf("1 0 10 3600 16 -1 -1 16 7200 -1 1 3 1 -1 1 -1 -1"),
            "log.swf:2:1: expected 18 whitespace-separated fields (SWF 2.2), got 17");
  EXPECT_EQ(swf("1 0 10 1h 16 -1 -1 16 7200 -1 1 3 1 -1 1 -1 -1 -1"),
            "log.swf:2:8: expected field 4 as a non-negative number or -1 (missing), got '1h'");
  EXPECT_EQ(swf("1 0 10 -3600 16 -1 -1 16 7200 -1 1 3 1 -1 1 -1 -1 -1"),
            "log.swf:2:8: expected field 4 as a non-negative number or -1 (missing), got '-3600'");
  EXPECT_EQ(swf("1 0 10 3600 16 -1 -1 16 7200 -1 7 3 1 -1 1 -1 -1 -1"),
            "log.swf:2:33: expected the status (field 11) as a whole number from -1 to 5, got '7'");
  EXPECT_EQ(swf("1 -1 10 3600 16 -1 -1 16 7200 -1 1 3 1 -1 1 -1 -1 -1"),
            "log.swf:2:3: expected the submit time (field 2) in seconds, got -1 (missing)");
  EXPECT_EQ(ErrorOf([] { ParseSwf("; MaxProcs: many\n", "log.swf", {}); }),
            "log.swf:1:13: expected MaxProcs as a whole number from 1 to 100000000, got 'many'");
  EXPECT_EQ(ErrorOf([] { ParseSwf("; only comments\n", "log.swf", {}); }),
            "log.swf:1: the trace has no jobs");
}

TEST(JobTraces, EmptyFilesAreRefused) {
  EXPECT_EQ(ErrorOf([] { ParseAlibabaPods("", "p.csv", {}); }),
            "p.csv:1: the Alibaba pod list is empty");
  EXPECT_EQ(ErrorOf([] { ParsePhillyJobLog(" \n", "l.json", {}); }),
            "l.json:1: the job log is empty");
  EXPECT_EQ(ErrorOf([] { ParseHeliosLog("", "l.csv", {}); }), "l.csv:1: the job log is empty");
  EXPECT_EQ(ErrorOf([] { ParseSwf("\n", "l.swf", {}); }), "l.swf:1: the workload log is empty");
}

}  // namespace
}  // namespace firstwall::scheduler
