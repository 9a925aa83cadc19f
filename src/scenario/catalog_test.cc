#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "scenario/catalog.h"
#include "scenario/loader.h"

namespace firstwall::scenario {
namespace {
using namespace units;

TEST(Catalog, HoldsTheRequiredCardsWithSources) {
  const Catalog& c = BuiltinCatalog();
  for (const char* g : {"A100-SXM4-80GB", "H100-SXM5-80GB", "H200-SXM", "B200", "MI300X"}) {
    ASSERT_TRUE(c.gpus.count(g)) << g;
    const hardware::GpuSpec& gpu = c.gpus.at(g);
    for (const char* figure : {"peak_dense", "hbm_capacity", "hbm_bandwidth", "tdp", "idle_power",
                               "nvlink_bandwidth", "thermal"}) {
      EXPECT_TRUE(gpu.sources.count(figure)) << g << " " << figure;
    }
    EXPECT_LT(gpu.idle_power, gpu.tdp);
    EXPECT_TRUE(gpu.Peak(hardware::DataType::kBf16).has_value());
  }
  for (const char* m : {"llama3-8b", "llama3-70b", "llama3-405b", "gpt3-175b"}) {
    ASSERT_TRUE(c.models.count(m)) << m;
  }
}

TEST(Catalog, FiguresMatchTheDatasheets) {
  const Catalog& c = BuiltinCatalog();
  const auto& h100 = c.gpus.at("H100-SXM5-80GB");
  EXPECT_DOUBLE_EQ(ToFlopPerSecond(*h100.Peak(hardware::DataType::kBf16)), 989.4e12);
  EXPECT_DOUBLE_EQ(ToBytesPerSecond(h100.hbm_bandwidth), 3.35e12);
  EXPECT_DOUBLE_EQ(ToWatts(h100.tdp), 700);
  EXPECT_FALSE(c.gpus.at("A100-SXM4-80GB").Peak(hardware::DataType::kFp8).has_value());
}

// A model card file of its own: its empty-file message and its text checks are a card's.
TEST(Catalog, ModelCardFileErrorsAreACards) {
  auto error_of = [](const std::string& text) -> std::string {
    const std::string path =
        (std::filesystem::path(::testing::TempDir()) / "card.yaml").lexically_normal().string();
    std::ofstream(path, std::ios::binary) << text;
    try {
      LoadModelCardFile(path);
    } catch (const InputError& e) {
      return std::string(e.what()).substr(path.size());
    }
    return "ok";
  };
  const std::string empty = error_of("");
  EXPECT_EQ(empty.rfind(":1:1: error: the file is empty", 0), 0u) << empty;
  EXPECT_NE(empty.find("a card starts with 'name: ...'"), std::string::npos) << empty;
  EXPECT_EQ(empty.find("scenario"), std::string::npos) << empty;
  const std::string latin1 = error_of("name: caf\xe9\nlayers: 2\n");
  EXPECT_EQ(latin1.rfind(":1:10: error: the byte 0xE9 is not UTF-8", 0), 0u) << latin1;
  const std::string nul = error_of(std::string("name: m\nlayers: 2\0\n", 19));
  EXPECT_EQ(nul.rfind(":2:10: error: a control character U+0000 (NUL)", 0), 0u) << nul;
  const std::string unclosed = error_of("name: m\nlayers: 2\nsources: {layers: \"paper}\n");
  EXPECT_EQ(unclosed.rfind(":3:19: error: the double quote", 0), 0u) << unclosed;
}

TEST(Catalog, ACardNamedTwiceIsRefusedAtTheSecond) {
  const std::string h100 = EmbeddedText("catalog/gpus/h100-sxm5-80gb.yaml");
  const size_t at = h100.find("\nname:") + 1;  // the name key's line
  const int line = 1 + static_cast<int>(std::count(h100.begin(), h100.begin() + at, '\n'));
  const std::string key = ":" + std::to_string(line) + ":1";
  try {
    ReadCatalogFiles({{"catalog/gpus/h100-sxm5-80gb.yaml", h100}, {"mine/gpus/copy.yaml", h100}});
    FAIL() << "accepted two cards of one name";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("mine/gpus/copy.yaml" + key +
                                              ": error: a second card is named 'H100-SXM5-80GB' "
                                              "(the first is at catalog/gpus/h100-sxm5-80gb.yaml" +
                                              key + ")",
                                          0),
              0u)
        << e.what();
  }
  EXPECT_EQ(ReadCatalogFiles({{"catalog/gpus/h100-sxm5-80gb.yaml", h100}}).gpus.size(), 1u);
}

TEST(Catalog, ModelParameterCountsMatchTheirNames) {
  const Catalog& c = BuiltinCatalog();
  // Llama 3 paper: 8B, 70B, 405B; GPT-3: 175B.
  EXPECT_NEAR(c.models.at("llama3-8b").TotalParams() / 1e9, 8.0, 0.1);
  EXPECT_NEAR(c.models.at("llama3-70b").TotalParams() / 1e9, 70.6, 0.2);
  EXPECT_NEAR(c.models.at("llama3-405b").TotalParams() / 1e9, 405.8, 1.0);
  EXPECT_NEAR(c.models.at("gpt3-175b").TotalParams() / 1e9, 174.6, 0.5);
}

// A card as a scenario's catalog gives it, read alone; "" when it is accepted, else the message.
std::string CardError(const std::string& yaml, const hardware::GpuSpec* base) {
  try {
    const Document doc = Document::Parse(yaml, "card.yaml");
    const Section s(doc, GpuCardSchema(), doc.root(), "", "", doc.At(doc.root()));
    ReadGpuCard(s, base, false);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Catalog, AGpuWithoutNvlinkIsRefusedAtItsLine) {
  // The models have no PCIe-only path (the phase timeline stopped with an internal error), so
  // 0 is outside the key's range, for a new card and for an override alike.
  const std::string card =
      "name: PCIe-GPU\nvendor: Test\npeak_dense:\n  bf16: 400 TFLOP/s\nhbm_capacity: 48 GB\n"
      "hbm_bandwidth: 1 TB/s\ntdp: 350 W\nidle_power: 40 W\nnvlink_bandwidth: 0 GB/s\n"
      "thermal:\n  max_operating: 85 C\n  slowdown: 88 C\n  shutdown: 92 C\n";
  EXPECT_NE(CardError(card, nullptr)
                .find("card.yaml:9:19: error: 'nvlink_bandwidth' is 0 GB/s, out of range: expected "
                      "between 1 GB/s and 50 TB/s"),
            std::string::npos)
      << CardError(card, nullptr);
  const hardware::GpuSpec& h100 = BuiltinCatalog().gpus.at("H100-SXM5-80GB");
  EXPECT_NE(CardError("name: H100-SXM5-80GB\nnvlink_bandwidth: 0 GB/s\n", &h100)
                .find("card.yaml:2:19: error: 'nvlink_bandwidth' is 0 GB/s, out of range"),
            std::string::npos);
  EXPECT_EQ(CardError("name: H100-SXM5-80GB\nnvlink_bandwidth: 1 GB/s\n", &h100), "");
}

TEST(Catalog, CollectiveFiguresArePerGenerationAndChecked) {
  // Issue #16: NVLink collective figures per card; the H100 fit where a card gives none.
  const auto& gpus = BuiltinCatalog().gpus;
  EXPECT_EQ(gpus.at("A100-SXM4-80GB").collective.nvls_efficiency, 0.0);
  EXPECT_LT(gpus.at("A100-SXM4-80GB").collective.bus_efficiency, hardware::kNvlinkBusEfficiency);
  EXPECT_GT(gpus.at("H100-SXM5-80GB").collective.nvls_efficiency, 0.0);
  EXPECT_EQ(gpus.at("MI300X").collective.nvls_efficiency, 0.0);
  const hardware::GpuSpec& h100 = gpus.at("H100-SXM5-80GB");
  EXPECT_NE(CardError("name: H100-SXM5-80GB\ncollective:\n  nvls_efficiency: 1.5\n", &h100)
                .find("card.yaml:3:20: error: 'collective.nvls_efficiency' is 1.5"),
            std::string::npos)
      << CardError("name: H100-SXM5-80GB\ncollective:\n  nvls_efficiency: 1.5\n", &h100);
  EXPECT_NE(CardError("name: H100-SXM5-80GB\ncollective:\n  launch_latency: 24\n", &h100)
                .find("card.yaml:3:21: error: 'collective.launch_latency': missing unit"),
            std::string::npos)
      << CardError("name: H100-SXM5-80GB\ncollective:\n  launch_latency: 24\n", &h100);
}

TEST(Catalog, AShortenedGpuNameSuggestsTheCardsItNames) {
  const std::string hint = UnknownNameHint("H100", BuiltinCatalog().gpus);
  EXPECT_EQ(hint.find("did you mean 'H100-SXM5-80GB'?"), 0u) << hint;
  EXPECT_EQ(NearestNameHint("H1", {"H100-PCIe", "H100-SXM5-80GB", "B200"}),
            "did you mean 'H100-PCIe' or 'H100-SXM5-80GB'? known: H100-PCIe, H100-SXM5-80GB, B200");
}

// Issue #16, case 5: cards state what the GPU runs (data types by their peaks, the FlashAttention
// generation), and a Volta card needs no bf16 peak it does not have.
TEST(GpuCapabilities, EveryShippedCardStatesThemWithASource) {
  const Catalog& c = BuiltinCatalog();
  const std::map<std::string, int> flash = {
      {"A100-SXM4-80GB", 2}, {"H100-SXM5-80GB", 3}, {"H200-SXM", 3}, {"B200", 2},  {"MI300X", 2},
      {"V100-SXM2-32GB", 0}, {"B300", 2},           {"GB200", 2},    {"GB300", 2}, {"MI325X", 2},
      {"MI355X", 2},         {"TPU-v5p", 2},        {"TPU-v6e", 2}};
  for (const auto& [name, gpu] : c.gpus) {
    EXPECT_TRUE(gpu.sources.count("capabilities")) << name;
    ASSERT_TRUE(flash.count(name)) << name << ": add its FlashAttention generation here";
    EXPECT_EQ(gpu.capabilities.flash_attention, flash.at(name)) << name;
  }
  const hardware::GpuSpec& v100 = c.gpus.at("V100-SXM2-32GB");
  using hardware::DataType;
  EXPECT_DOUBLE_EQ(ToFlopPerSecond(*v100.Peak(DataType::kFp16)), 125e12);
  EXPECT_DOUBLE_EQ(ToFlopPerSecond(*v100.Peak(DataType::kFp32)), 15.7e12);
  for (DataType t : {DataType::kBf16, DataType::kTf32, DataType::kFp8}) {
    EXPECT_FALSE(v100.Peak(t).has_value()) << hardware::DataTypeName(t);
  }
  EXPECT_EQ(v100.DefaultDataType(), DataType::kFp16);
  EXPECT_EQ(c.gpus.at("H100-SXM5-80GB").DefaultDataType(), DataType::kBf16);
  EXPECT_DOUBLE_EQ(ToBytesPerSecond(v100.hbm_bandwidth), 900e9);
  EXPECT_DOUBLE_EQ(ToWatts(v100.tdp), 300);
  for (const char* figure : {"peak_dense", "hbm_capacity", "hbm_bandwidth", "tdp", "idle_power",
                             "nvlink_bandwidth", "gemm", "capabilities", "thermal"}) {
    EXPECT_TRUE(v100.sources.count(figure)) << figure;
  }
}

TEST(GpuCapabilities, ACardMayLeaveOutBf16ButNotBoth16BitTypes) {
  const std::string head =
      "name: Volta\nvendor: Test\nhbm_capacity: 32 GB\nhbm_bandwidth: 900 GB/s\ntdp: 300 W\n"
      "idle_power: 40 W\nnvlink_bandwidth: 300 GB/s\n"
      "thermal: {max_operating: 83 C, slowdown: 87 C, shutdown: 90 C}\n";
  EXPECT_EQ(CardError(head + "peak_dense: {fp16: 125 TFLOP/s}\n", nullptr), "");
  const std::string none = CardError(head + "peak_dense: {fp32: 15.7 TFLOP/s}\n", nullptr);
  EXPECT_NE(none.find("card.yaml:9:13: error: 'peak_dense' gives neither bf16 nor fp16"),
            std::string::npos)
      << none;
  // Left out, the generation is FlashAttention-2, what every card got before cards stated it.
  const hardware::GpuSpec plain = [&] {
    const Document doc = Document::Parse(head + "peak_dense: {fp16: 125 TFLOP/s}\n", "card.yaml");
    return ReadGpuCard(Section(doc, GpuCardSchema(), doc.root(), "", "", doc.At(doc.root())),
                       nullptr, false);
  }();
  EXPECT_EQ(plain.capabilities.flash_attention, 2);
  const std::string bad = CardError(
      head + "peak_dense: {fp16: 125 TFLOP/s}\ncapabilities: {flash_attention: 4}\n", nullptr);
  EXPECT_NE(bad.find("'capabilities.flash_attention' is '4', expected one of none, 1, 2, 3"),
            std::string::npos)
      << bad;
  // An override keeps the base's generation unless it gives one.
  const hardware::GpuSpec& h100 = BuiltinCatalog().gpus.at("H100-SXM5-80GB");
  EXPECT_EQ(CardError("name: H100-SXM5-80GB\ncapabilities: {flash_attention: none}\n", &h100), "");
}

}  // namespace
}  // namespace firstwall::scenario
