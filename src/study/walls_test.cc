// `firstwall walls` against a site whose walls are known on paper, and the search's mechanics.
//
// The hand-built site: H100 nodes of 8 GPUs at a constant activity of 1 (every phase), so each
// GPU draws its TDP (700 W) and each node 8 x 700 W + 2 kW base = 7.6 kW; racks of 4 nodes draw
// 30.4 kW against a 40 kW limit. One UPS stage at 100 % efficiency rated 1.5 MW carries the IT
// load, the cooling plant is rated 2 MW (heat = IT load: no conversion losses), and the grid
// connection 3 MW. Growing GPUs in whole racks of 32:
//   UPS:           racks x 30.4 kW >= 1500 kW  ->  50 racks = 1600 GPUs
//   cooling plant: racks x 30.4 kW >= 2000 kW  ->  66 racks = 2112 GPUs
//   grid:          racks x 30.4 kW x PUE >= 3000 kW; the plant's own draw (PUE about 1.02 at
//                  this load, more once the plant is overloaded) puts it near 96-99 racks
// Growing the node base power b: a rack draws 4 x (5.6 kW + b) >= 40 kW  ->  b = 4.4 kW.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "study/walls.h"

namespace firstwall::study {
namespace {

constexpr const char* kHandBuilt = R"(firstwall: 1
site:
  name: hand-built walls
  outdoor_temperature: 20 C
  outdoor_relative_humidity: 50 %
  grid_import_limit: 3 MW
  electricity_price: 0.08 USD/kWh
  carbon_intensity: 367 g/kWh
cluster:
  gpu: H100-SXM5-80GB
  nodes: 32
  gpus_per_node: 8
  nodes_per_rack: 4
  node_base_power: 2 kW
  nic_bandwidth: 400 Gb/s
  rack_power_limit: 40 kW
facility:
  power_chain:
    - name: UPS
      efficiency: 100 %
      rating: 1.5 MW
  cooling:
    capacity: 2 MW
    liquid_share: 80 %
    liquid_supply: 32 C
    air_supply: 14 C
workloads:
  - name: burn
    type: training
    model: llama3-8b
    gpus: 256
    tp: 8
    global_batch: 256
    sequence_length: 4096
    micro_batch: 1
    activity: {compute: 1, communication: 1, optimizer: 1}
simulation:
  duration: 10 min
  tick: 10 s
)";

const SourceLocation kAt{"--grow", 0, 0};

ScenarioSource HandBuilt() {
  ScenarioSource s;
  s.text = kHandBuilt;
  s.file = "hand-built.yaml";
  return s;
}

// The hand-built site with CDUs of `capacity` each serving `racks` racks.
ScenarioSource WithCdus(const std::string& capacity, int racks) {
  ScenarioSource s = HandBuilt();
  const std::string at = "    air_supply: 14 C\n";
  s.text.replace(s.text.find(at), at.size(),
                 at + "    cdu_capacity: " + capacity +
                     "\n    racks_per_cdu: " + std::to_string(racks) + "\n");
  return s;
}

const Wall& WallOf(const WallsResult& r, const std::string& resource) {
  for (const Wall& w : r.walls) {
    if (w.resource == resource) return w;
  }
  ADD_FAILURE() << "no wall " << resource;
  static const Wall none;
  return none;
}

size_t RankOf(const WallsResult& r, const std::string& resource) {
  for (size_t i = 0; i < r.walls.size(); ++i) {
    if (r.walls[i].resource == resource) return i;
  }
  return r.walls.size();
}

WallsResult Grow(const std::string& axis, double from, double to, WallsOptions o = {},
                 const ScenarioSource& src = HandBuilt()) {
  const Grower g(src, ParseAxis(axis, src, kAt), kAt);
  o.from = from;
  o.to = to;
  return FindWalls(src, g, o, kAt);
}

TEST(Walls, HandBuiltSiteOnPaper) {
  WallsOptions o;
  o.next_walls = 0;
  const WallsResult r = Grow("gpus", 256, 4096, o);
  const double step = (4096.0 - 256.0) / (o.steps - 1);
  struct Row {
    const char* resource;
    double paper, tolerance;
  };
  const Row rows[] = {
      {"UPS", 1600, 0}, {"cooling plant", 2112, 0}, {"grid connection", 3136, step}};
  std::printf("%-16s %10s %10s %10s %10s\n", "wall", "paper", "found", "error", "allowed");
  for (const Row& row : rows) {
    const Wall& w = WallOf(r, row.resource);
    ASSERT_TRUE(w.binds) << row.resource;
    std::printf("%-16s %10.0f %10.0f %10.0f %10.0f GPUs\n", row.resource, row.paper, w.binds_at,
                w.binds_at - row.paper, row.tolerance);
    EXPECT_LE(std::abs(w.binds_at - row.paper), row.tolerance) << row.resource;
  }
  // In the right order, and the first wall is the UPS.
  EXPECT_EQ(r.walls.front().resource, "UPS");
  EXPECT_LT(RankOf(r, "UPS"), RankOf(r, "cooling plant"));
  EXPECT_LT(RankOf(r, "cooling plant"), RankOf(r, "grid connection"));
  // Every point is a whole number of racks.
  for (const WallPoint& p : r.curve) EXPECT_EQ(std::fmod(p.x, 32.0), 0.0) << p.x;
  // Headroom at the first wall: the rack stays at 30.4 of 40 kW whatever the scale.
  bool rack = false;
  for (const auto& [name, h] : r.headroom) {
    if (name == "rack power") {
      rack = true;
      EXPECT_NEAR(h, 1 - 30.4 / 40, 1e-6);
    }
  }
  EXPECT_TRUE(rack);
  // Each wall carries the others' headroom where it binds: at 2,112 GPUs (66 racks) the UPS
  // carries 2,006.4 kW of its 1,500, a headroom of -34 %.
  bool ups = false;
  for (const auto& [name, h] : WallOf(r, "cooling plant").headroom) {
    if (name == "UPS") {
      ups = true;
      EXPECT_NEAR(h, 1 - 66 * 30.4 / 1500, 1e-6);
    }
  }
  EXPECT_TRUE(ups);
  // The rack limit never binds along this axis; GPUs busy at TDP are no wall either.
  EXPECT_FALSE(WallOf(r, "rack power").binds);
  EXPECT_FALSE(WallOf(r, "GPU compute").binds);
}

TEST(Walls, RackLimitAlongTheNodeBasePower) {
  WallsOptions o;
  o.next_walls = 0;
  const WallsResult r = Grow("cluster.node_base_power", 2000, 8000, o);
  const Wall& w = WallOf(r, "rack power");
  ASSERT_TRUE(w.binds);
  const double resolution = (8000.0 - 2000.0) / (o.steps - 1) / 16;
  std::printf("rack power: paper 4400 W, found %.1f W (held at %.1f W), resolution %.1f W\n",
              w.binds_at, w.holds_at, resolution);
  EXPECT_GE(w.binds_at, 4400);
  EXPECT_LT(w.holds_at, 4400);
  EXPECT_LE(w.binds_at - w.holds_at, resolution * (1 + 1e-9));
  EXPECT_EQ(r.walls.front().resource, "rack power");
}

// The hand-built site with CDUs of 60 kW, one per 2 racks, 80 % of the IT heat in cold plates. A
// CDU carries 0.8 x 2 racks x 4 x (5.6 kW + b) = 6.4 x (5.6 kW + b) >= 60 kW  ->  b = 3.775 kW,
// before the rack limit at 4.4 kW (the UPS, the plant and the grid stay far: 8 racks). Raised 25 %
// to 75 kW the CDU would bind at b = 75 / 6.4 - 5.6 = 6.119 kW, so the rack is the next wall. (The
// overloaded CDU warms its cold plates: at b = 8 kW, 87 kW on 60, its secondary supply sits
// 10 K x 0.25 x 87 / 60 = 3.6 K above the 32 C water and an H100 at 700 W reaches 63.6 C, far
// from its 89 C slowdown.)
TEST(Walls, CdusAlongTheNodeBasePower) {
  WallsOptions o;
  o.next_walls = 1;
  const WallsResult r = Grow("cluster.node_base_power", 2000, 8000, o, WithCdus("60 kW", 2));
  const double resolution = (8000.0 - 2000.0) / (o.steps - 1) / 16;
  const Wall& cdu = WallOf(r, "CDU");
  ASSERT_TRUE(cdu.binds);
  std::printf("CDU: paper 3775 W, found %.1f W (held at %.1f W), resolution %.1f W\n", cdu.binds_at,
              cdu.holds_at, resolution);
  EXPECT_EQ(cdu.raise_key, "facility.cooling.cdu_capacity");
  EXPECT_GE(cdu.binds_at, 3775);
  EXPECT_LT(cdu.holds_at, 3775);
  EXPECT_LE(cdu.binds_at - cdu.holds_at, resolution * (1 + 1e-9));
  EXPECT_EQ(r.walls.front().resource, "CDU");
  EXPECT_LT(RankOf(r, "CDU"), RankOf(r, "rack power"));
  // Where the rack binds, the CDU carries 6.4 x (5.6 kW + b) of its 60 kW.
  const Wall& rack = WallOf(r, "rack power");
  ASSERT_TRUE(rack.binds);
  bool seen = false;
  for (const auto& [name, h] : rack.headroom) {
    if (name == "CDU") {
      seen = true;
      EXPECT_NEAR(h, 1 - 6.4 * (5.6 + rack.binds_at / 1e3) / 60, 1e-6);
    }
  }
  EXPECT_TRUE(seen);
  // Raising the CDU to 75 kW leaves the rack as the next wall, at 4.4 kW.
  ASSERT_EQ(r.next_walls.size(), 1u);
  const NextWall& n = r.next_walls[0];
  EXPECT_EQ(n.raised, "CDU");
  EXPECT_DOUBLE_EQ(n.raised_to, 75);
  ASSERT_TRUE(n.next);
  std::printf("after raising the CDU to %.0f kW: %s at %.1f W (paper 4400 W)\n", n.raised_to,
              n.next->resource.c_str(), n.next->binds_at);
  EXPECT_EQ(n.next->resource, "rack power");
  EXPECT_GE(n.next->binds_at, 4400);
  EXPECT_LE(n.next->binds_at - 4400, resolution * (1 + 1e-9));
}

// Growing GPUs under CDUs of 1.35 MW (about a large liquid-to-liquid CDU's rating) that serve up
// to 64 racks each: the first CDU fills as racks are added, 0.8 x 30.4 kW = 24.32 kW of cold-plate
// heat a rack, and binds at 1350 / 24.32 = 55.5 -> 56 racks = 1,792 GPUs, between the UPS (1,600)
// and the plant (2,112). Next walls: the UPS raised to 1,875 kW binds at 1,984 GPUs, so the CDU
// comes next at 1,792; the CDU raised to 1,687.5 kW never binds again (64 racks carry at most
// 1,556.5 kW), so the raised UPS follows at 1,984 GPUs.
TEST(Walls, ACduFillsAsRacksAreAddedAndIsRaisedInTurn) {
  WallsOptions o;
  o.next_walls = 2;
  const WallsResult r = Grow("gpus", 256, 4096, o, WithCdus("1.35 MW", 64));
  const Wall& cdu = WallOf(r, "CDU");
  ASSERT_TRUE(cdu.binds);
  std::printf("CDU along gpus: paper 1792 GPUs, found %.0f\n", cdu.binds_at);
  EXPECT_DOUBLE_EQ(cdu.binds_at, 1792);
  EXPECT_EQ(RankOf(r, "UPS"), 0u);
  EXPECT_EQ(RankOf(r, "CDU"), 1u);
  EXPECT_EQ(RankOf(r, "cooling plant"), 2u);
  ASSERT_EQ(r.next_walls.size(), 2u);
  ASSERT_TRUE(r.next_walls[0].next);
  EXPECT_EQ(r.next_walls[0].next->resource, "CDU");
  EXPECT_DOUBLE_EQ(r.next_walls[0].next->binds_at, 1792);
  const NextWall& raised = r.next_walls[1];
  EXPECT_EQ(raised.raised, "CDU");
  EXPECT_EQ(raised.raise_key, "facility.cooling.cdu_capacity");
  EXPECT_DOUBLE_EQ(raised.raised_to, 1687.5);
  ASSERT_TRUE(raised.next);
  std::printf("CDU raised to %.1f kW: next wall %s at %.0f GPUs (paper UPS at 1984)\n",
              raised.raised_to, raised.next->resource.c_str(), raised.next->binds_at);
  EXPECT_EQ(raised.next->resource, "UPS");
  EXPECT_DOUBLE_EQ(raised.next->binds_at, 1984);
}

TEST(Walls, RaisingTheFirstWallFindsTheNext) {
  WallsOptions o;
  o.next_walls = 2;
  const WallsResult r = Grow("gpus", 256, 4096, o);
  ASSERT_GE(r.next_walls.size(), 2u);
  // UPS raised 25 % to 1875 kW binds again at 62 racks (1984 GPUs), before the plant (2112).
  const NextWall& a = r.next_walls[0];
  EXPECT_EQ(a.raised, "UPS");
  EXPECT_EQ(a.raise_key, "facility.power_chain[UPS].rating");
  EXPECT_DOUBLE_EQ(a.raised_to, 1875);
  ASSERT_TRUE(a.next);
  EXPECT_EQ(a.next->resource, "UPS");
  EXPECT_DOUBLE_EQ(a.next->binds_at, 1984);
  EXPECT_DOUBLE_EQ(a.gain, 1984 - 1600);
  // Raised again (2343.75 kW: 78 racks), the plant at 2112 GPUs comes first.
  const NextWall& b = r.next_walls[1];
  ASSERT_TRUE(b.next);
  EXPECT_EQ(b.next->resource, "cooling plant");
  EXPECT_DOUBLE_EQ(b.next->binds_at, 2112);
}

TEST(Walls, ThreadsGiveTheSameAnswer) {
  WallsOptions one, three;
  one.next_walls = three.next_walls = 1;
  one.steps = three.steps = 7;
  three.threads = 3;
  const WallsResult a = Grow("gpus", 256, 2560, one);
  const WallsResult b = Grow("gpus", 256, 2560, three);
  ASSERT_EQ(a.walls.size(), b.walls.size());
  for (size_t i = 0; i < a.walls.size(); ++i) {
    EXPECT_EQ(a.walls[i].resource, b.walls[i].resource);
    EXPECT_EQ(a.walls[i].binds_at, b.walls[i].binds_at);
  }
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) {
    ASSERT_EQ(a.curve[i].limits.size(), b.curve[i].limits.size());
    for (size_t k = 0; k < a.curve[i].limits.size(); ++k) {
      EXPECT_EQ(a.curve[i].limits[k].utilization, b.curve[i].limits[k].utilization);
    }
  }
  EXPECT_EQ(a.runs, b.runs);
}

TEST(Walls, AJobThatNoLongerFitsIsTheScenarioLimit) {
  WallsOptions o;
  o.next_walls = 0;
  o.steps = 5;
  const WallsResult r = Grow("job_size:burn", 64, 512, o);
  const Wall& w = WallOf(r, "scenario limit");
  ASSERT_TRUE(w.binds);
  // The job grows by whole tensor-parallel groups of 8; 256 GPUs is the whole cluster.
  EXPECT_DOUBLE_EQ(w.holds_at, 256);
  EXPECT_DOUBLE_EQ(w.binds_at, 264);
  EXPECT_FALSE(w.note.empty());
}

TEST(Walls, BadAxesAreInputErrors) {
  const ScenarioSource src = HandBuilt();
  EXPECT_THROW(ParseAxis("gpu", src, kAt), InputError);
  EXPECT_THROW(ParseAxis("cluster.gpu", src, kAt), InputError);  // not numeric
  EXPECT_THROW(ParseAxis("cluster.nodez", src, kAt), InputError);
  EXPECT_THROW(Grower(src, ParseAxis("rate:chat", src, kAt), kAt), InputError);
  EXPECT_THROW(Grower(src, ParseAxis("job_size:nope", src, kAt), kAt), InputError);
  const Grower g(src, ParseAxis("gpus", src, kAt), kAt);
  WallsOptions o;
  o.from = 512;
  o.to = 512;
  EXPECT_THROW(FindWalls(src, g, o, kAt), InputError);
  o.to = 1024;
  o.steps = 1;
  EXPECT_THROW(FindWalls(src, g, o, kAt), InputError);
  EXPECT_THROW(g.Parse("12 MW", kAt), InputError);
  const Grower p(src, ParseAxis("it_power", src, kAt), kAt);
  EXPECT_DOUBLE_EQ(p.Parse("20 MW", kAt), 20);
  EXPECT_THROW(p.Parse("20 MWh", kAt), InputError);
}

TEST(Walls, ItPowerGrowsInRacksOfNameplate) {
  const ScenarioSource src = HandBuilt();
  const Grower g(src, ParseAxis("it_power", src, kAt), kAt);
  // Nameplate: 8 x 700 W + 2 kW = 7.6 kW a node, 30.4 kW a rack; 32 nodes = 0.2432 MW.
  EXPECT_NEAR(g.base(), 0.2432, 1e-12);
  EXPECT_NEAR(g.Snap(1.0), 33 * 0.0304, 1e-12);
}

TEST(Walls, InTimeNamesTheClosestWallEachHour) {
  ScenarioSource src = HandBuilt();
  src.overrides.push_back({"simulation.duration", "3 h", kAt});
  const HoursResult h = WallsInTime(src);
  ASSERT_EQ(h.hours.size(), 3u);
  for (const HourWall& w : h.hours) {
    EXPECT_EQ(w.first, "rack power");  // 30.4 of 40 kW; the UPS is at 16 %
    EXPECT_NEAR(w.utilization, 0.76, 1e-9);
  }
  const auto rack = std::find(h.resources.begin(), h.resources.end(), "rack power");
  ASSERT_NE(rack, h.resources.end());
  EXPECT_EQ(h.first_hours[static_cast<size_t>(rack - h.resources.begin())], 3);
}

// A 2:1 leaf on paper. 48 H100 nodes, leaves of 36 ports at 2:1: 24 ports down (24 nodes of a
// rail per leaf, so 2 leaves per rail), 12 up; 16 leaves on 6 spines (the fewest that divide 12
// and have room for 16 x 12 ports), 2 ports per leaf-spine trunk. One job, tensor parallel 8 (a
// node) and 2 pipeline stages: stage 0 is nodes [0, dp), stage 1 [dp, 2 dp), and each node of stage
// 0 sends its activations to node j + dp on every rail. Flows from leaf 0 cross to leaf 1 for j in
// [24 - dp, dp): 2 dp - 24 of them against 12 up ports, so with adaptive routing (no hash
// collisions) the leaf's up-links hold while 2 dp - 24 <= 12 and bind from dp = 19, 304 GPUs, where
// 14 flows spread 3, 3, 2, 2, 2, 2 over the 6 trunks: 3 flows on 2 ports keep 67 % each. The job
// grows by one replica of 16 GPUs; the cluster holds 384, so the scenario refuses 400.
WallsResult GrowPipe(const std::string& oversubscription, const std::string& routing) {
  // The hand-built site with 48 nodes, a fabric, and its job split into two pipeline stages.
  ScenarioSource src = HandBuilt();
  src.overrides = {{"cluster.nodes", "48", kAt},
                   {"cluster.fabric.leaf_radix", "36", kAt},
                   {"cluster.fabric.oversubscription", oversubscription, kAt},
                   {"cluster.fabric.routing", routing, kAt},
                   {"workloads[burn].gpus", "192", kAt},
                   {"workloads[burn].pp", "2", kAt},
                   {"workloads[burn].global_batch", "192", kAt}};
  const Grower g(src, ParseAxis("job_size:burn", src, kAt), kAt);
  WallsOptions o;
  o.next_walls = 0;
  o.steps = 9;
  o.from = 192;
  o.to = 448;
  return FindWalls(src, g, o, kAt);
}

TEST(Walls, TwoToOneLeafOnPaper) {
  const WallsResult r = GrowPipe("2", "adaptive");
  const Wall& fabric = WallOf(r, "fabric leaf-spine");
  const Wall& size = WallOf(r, "scenario limit");
  std::printf("%-20s %8s %8s %8s\n", "wall", "paper", "found", "held at");
  std::printf("%-20s %8d %8.0f %8.0f GPUs\n", "fabric leaf-spine", 304, fabric.binds_at,
              fabric.holds_at);
  std::printf("%-20s %8d %8.0f %8.0f GPUs\n", "scenario limit", 400, size.binds_at, size.holds_at);
  ASSERT_TRUE(fabric.binds);
  EXPECT_DOUBLE_EQ(fabric.binds_at, 304);  // one growth step is 16 GPUs: found exactly
  EXPECT_DOUBLE_EQ(fabric.holds_at, 288);
  EXPECT_NE(fabric.note.find("kept 67%"), std::string::npos) << fabric.note;
  ASSERT_TRUE(size.binds);
  EXPECT_DOUBLE_EQ(size.binds_at, 400);
  EXPECT_EQ(r.walls.front().resource, "fabric leaf-spine");
  EXPECT_LT(RankOf(r, "fabric leaf-spine"), RankOf(r, "scenario limit"));
  // Each GPU's own link to its leaf never binds: one flow per NIC.
  EXPECT_FALSE(WallOf(r, "fabric NIC-leaf").binds);
  // Non-blocking (18 down, 18 up), the same job never contends; hashing (ECMP) can put two
  // flows on one trunk before the leaf's up capacity is used, so it binds no later.
  const WallsResult flat = GrowPipe("1", "adaptive");
  EXPECT_FALSE(WallOf(flat, "fabric leaf-spine").binds);
  const WallsResult hashed = GrowPipe("2", "ecmp");
  ASSERT_TRUE(WallOf(hashed, "fabric leaf-spine").binds);
  std::printf("ECMP: fabric leaf-spine binds at %.0f GPUs\n",
              WallOf(hashed, "fabric leaf-spine").binds_at);
  EXPECT_LE(WallOf(hashed, "fabric leaf-spine").binds_at, 304);
}

// The search itself, with a judge in place of the simulation: a UPS that binds only between 800
// and 1200 GPUs is not monotone; a memory limit that binds until 1000 GPUs and then holds (a
// footprint shrinking as replicas shard it) is one crossing; a grid that binds from 1600 on is an
// ordinary wall.
TEST(Walls, ANonMonotoneResourceIsSaidSo) {
  WallsOptions o;
  o.next_walls = 0;
  o.steps = 8;  // 256, 512, ..., 2048
  o.judge = [](double x, const std::vector<scenario::Override>&) {
    Limit ups, memory, grid;
    ups.resource = "UPS", memory.resource = "HBM", grid.resource = "grid connection";
    ups.binds = x >= 800 && x <= 1200;
    memory.binds = x < 1000;
    grid.binds = x >= 1600;
    for (Limit* l : {&ups, &memory, &grid}) l->utilization = l->binds ? 1.0 : 0.5;
    return std::vector<Limit>{ups, memory, grid};
  };
  const WallsResult r = Grow("gpus", 256, 2048, o);
  const Wall& ups = WallOf(r, "UPS");
  EXPECT_TRUE(ups.binds);
  EXPECT_FALSE(ups.monotone);
  EXPECT_DOUBLE_EQ(ups.binds_at, 800);  // bisected to a whole rack between 768 and 1024
  EXPECT_NE(ups.note.find("not monotone: binds at 1024 GPUs, holds again at 1280 GPUs"),
            std::string::npos)
      << ups.note;
  const Wall& memory = WallOf(r, "HBM");
  EXPECT_TRUE(memory.monotone);
  EXPECT_TRUE(memory.at_start);
  EXPECT_NE(memory.note.find("holds from 1024 GPUs on"), std::string::npos) << memory.note;
  const Wall& grid = WallOf(r, "grid connection");
  EXPECT_TRUE(grid.monotone);
  EXPECT_DOUBLE_EQ(grid.binds_at, 1600);
}

// Points that say nothing of a resource are passed over, not taken for the end of the axis: a
// resource that appears only from 1,000 GPUs on (a third fabric tier) and binds from 1,500; a UPS
// binding from 1,600 on a site whose loader refuses 1,280 GPUs and 1,792 GPUs alone (rounding
// of shares at one scale), one a grid point and one a bisection midpoint.
TEST(Walls, PointsThatSayNothingArePassedOver) {
  WallsOptions o;
  o.next_walls = 0;
  o.steps = 8;  // 256, 512, ..., 2048
  o.judge = [](double x, const std::vector<scenario::Override>&) {
    if (x == 1280 || x == 1792) throw InputError({"judge", 0, 0}, "refused");
    std::vector<Limit> out(1);
    out[0].resource = "UPS";
    out[0].binds = x >= 1600;
    if (x >= 1000) {
      Limit tier;
      tier.resource = "fabric spine-super-spine";
      tier.binds = x >= 1500;
      out.push_back(tier);
    }
    if (x >= 1536) {  // appears bound
      Limit late;
      late.resource = "fabric NIC-leaf";
      late.binds = true;
      out.push_back(late);
    }
    for (Limit& l : out) l.utilization = l.binds ? 1.0 : 0.5;
    return out;
  };
  const WallsResult r = Grow("gpus", 256, 2048, o);
  const Wall& tier = WallOf(r, "fabric spine-super-spine");
  EXPECT_TRUE(tier.binds);
  EXPECT_DOUBLE_EQ(tier.binds_at, 1504);  // the first whole rack from 1,500
  EXPECT_DOUBLE_EQ(tier.holds_at, 1472);
  const Wall& late = WallOf(r, "fabric NIC-leaf");
  EXPECT_DOUBLE_EQ(late.binds_at, 1536);
  EXPECT_DOUBLE_EQ(late.holds_at, 1280);  // the grid point before, where it was not there
  EXPECT_FALSE(late.at_start);
  const Wall& ups = WallOf(r, "UPS");
  EXPECT_TRUE(ups.binds);
  EXPECT_DOUBLE_EQ(ups.binds_at, 1600);
  EXPECT_DOUBLE_EQ(ups.holds_at, 1568);
  const Wall& refused = WallOf(r, "scenario limit");
  EXPECT_TRUE(refused.binds);
  EXPECT_DOUBLE_EQ(refused.binds_at, 1280);
  EXPECT_FALSE(refused.monotone);  // 1,536 loads again
}

// A service's requests left when the run ends bind the GPUs only beyond what a service keeping up
// has in flight: 10 req/s at 15 s each keep 150 in flight (Little's law); twice that is the line.
TEST(Limits, GpuComputeBindsOnABacklogNotOnRequestsInFlight) {
  report::Summary s;
  s.resources.push_back({"GPUs", "compute", 0.9, 1.0, "activity"});
  const site::SiteConfig cfg;
  report::ServiceSummary chat;
  chat.name = "chat";
  chat.result.throughput_rps = 10;
  chat.result.e2e.mean = 15;
  const auto compute = [&](double unfinished) {
    chat.result.unfinished = unfinished;
    s.services = {chat};
    for (const Limit& l : Limits(s, cfg)) {
      if (l.resource == "GPU compute") return l;
    }
    ADD_FAILURE() << "no GPU compute limit";
    return Limit{};
  };
  EXPECT_FALSE(compute(203).binds);
  EXPECT_FALSE(compute(300).binds);
  const Limit backlog = compute(301);
  EXPECT_TRUE(backlog.binds);
  EXPECT_EQ(backlog.because,
            "chat: 301 requests unfinished at the end, 150 in flight would keep up");
}

// In time, CDUs of 60 kW per 2 racks carry 0.8 x 2 x 30.4 kW = 48.64 kW each hour: 81 % of their
// rating, closer to it than the racks' 76 %.
TEST(Walls, InTimeCountsTheCdus) {
  ScenarioSource src = WithCdus("60 kW", 2);
  src.overrides.push_back({"simulation.duration", "2 h", kAt});
  const HoursResult h = WallsInTime(src);
  ASSERT_EQ(h.hours.size(), 2u);
  for (const HourWall& w : h.hours) {
    EXPECT_EQ(w.first, "CDU");
    EXPECT_NEAR(w.utilization, 0.8 * 2 * 30.4 / 60, 1e-9);
  }
}

}  // namespace
}  // namespace firstwall::study
