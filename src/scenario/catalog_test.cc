#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace firstwall::scenario
