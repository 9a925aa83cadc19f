// A malformed-input campaign over every example: each line of each example is mutated (its value's
// type, its unit, the unit dropped, the line deleted, the file cut after it, the value nulled) and
// loaded through the same loader as `firstwall validate` and `run`. Every outcome must be a loaded
// scenario or an InputError located in the mutated file (line > 0); mutations that are certainly
// wrong (a wrong unit, a bare number for a quantity) must be refused. A sample then goes through
// the CLI: exit status 2, file:line in the message, and no outputs.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "scenario/loader.h"
#include "tests/cli_support.h"

namespace {
namespace fs = std::filesystem;
using namespace firstwall::testing_cli;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> v;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) v.push_back(l);
  return v;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string t;
  for (const auto& l : lines) t += l + "\n";
  return t;
}

struct Mutation {
  std::string kind;
  int line = 0;  // 1-based line mutated
  std::string text;
  bool must_fail = false;
};

// `  key: value   # comment` -> (prefix up to the value, value); empty value when none.
bool SplitValue(const std::string& line, std::string& head, std::string& value) {
  static const std::regex kv(R"(^(\s*(?:- )?[A-Za-z_][A-Za-z0-9_]*:\s+)([^#]*?)\s*(#.*)?$)");
  std::smatch m;
  if (!std::regex_match(line, m, kv)) return false;
  head = m[1];
  value = m[2];
  return !value.empty();
}

std::vector<Mutation> Mutate(const std::string& text) {
  // A number with a unit (fractions written "96 %" also take bare numbers: not matched).
  static const std::regex quantity(R"(^(-?[0-9][0-9.,]*)\s*([A-Za-z][A-Za-z0-9/]*)$)");
  const std::vector<std::string> lines = Lines(text);
  std::vector<Mutation> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int n = static_cast<int>(i) + 1;
    auto with = [&](const std::string& kind, const std::string& replaced, bool must_fail) {
      std::vector<std::string> v = lines;
      v[i] = replaced;
      out.push_back({kind, n, Join(v), must_fail});
    };
    std::string head, value;
    if (!SplitValue(lines[i], head, value)) value.clear();
    if (!value.empty()) {
      std::smatch q;
      if (std::regex_match(value, q, quantity)) {
        with("unit", head + q[1].str() + " parsecs", true);
        with("bare number", head + q[1].str(), true);
      }
    }
    // One of the mutations that may be valid, in turn by line, to keep the campaign short.
    switch (i % 4) {
      case 0:
        if (!value.empty()) with("type", head + "[1, 2]", false);
        break;
      case 1:
        if (!value.empty()) with("null", head + "~", false);
        break;
      case 2: {
        std::vector<std::string> v = lines;
        v.erase(v.begin() + static_cast<long>(i));
        out.push_back({"deleted", n, Join(v), false});
        break;
      }
      default: {
        size_t at = 0;  // the start of line i
        for (size_t k = 0; k < i; ++k) at += lines[k].size() + 1;
        out.push_back({"truncated", n, text.substr(0, at + lines[i].size() / 2), false});
      }
    }
  }
  return out;
}

// The examples, with their data files named by absolute path so a copy anywhere still finds them.
std::vector<std::pair<std::string, std::string>> Examples() {
  std::vector<std::pair<std::string, std::string>> v;
  for (const auto& e : fs::directory_iterator("examples")) {
    if (e.path().extension() != ".yaml") continue;
    if (e.path().stem().string().find("sweep") != std::string::npos) continue;  // not a scenario
    std::string text = Slurp(e.path());
    const std::string abs = (fs::current_path() / "data").string() + "/";
    for (size_t p; (p = text.find("../data/")) != std::string::npos;) text.replace(p, 8, abs);
    v.push_back({e.path().filename().string(), text});
  }
  std::sort(v.begin(), v.end());
  return v;
}

// The weather files (a year of hours each, read by their own fuzz target) are left out of the
// in-process campaign to keep it short: the line stays, as a comment, so lines keep their numbers.
std::string WithoutWeather(std::string text) {
  for (size_t p = 0; (p = text.find("weather_file:", p)) != std::string::npos; p += 15) {
    text.insert(p, "# ");
  }
  return text;
}

TEST(Campaign, EveryMutationOfEveryExampleIsLoadedOrRefusedWithItsLocation) {
  int loaded = 0, refused = 0;
  for (const auto& [name, full] : Examples()) {
    const std::string text = WithoutWeather(full);
    for (const Mutation& m : Mutate(text)) {
      const std::string file = "campaign/" + name;
      const std::string what = name + ":" + std::to_string(m.line) + " " + m.kind;
      try {
        firstwall::scenario::LoadScenarioText(m.text, file, "");
        ++loaded;
        EXPECT_FALSE(m.must_fail) << what << ": accepted";
      } catch (const firstwall::InputError& e) {
        ++refused;
        EXPECT_EQ(e.where().file, file) << what << ": " << e.what();
        EXPECT_GT(e.where().line, 0) << what << ": " << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << what << ": not an input error: " << e.what();
      }
    }
  }
  std::printf("campaign: %d mutations loaded, %d refused with a location\n", loaded, refused);
  EXPECT_GT(refused, 400);
}

TEST(Campaign, TheCliRefusesASampleWithExitTwoAndWritesNothing) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("fw_campaign_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  int tried = 0;
  for (const auto& [name, text] : Examples()) {
    int k = 0;
    for (const Mutation& m : Mutate(text)) {
      if (!m.must_fail || k++ % 7 != 0) continue;  // a sample of the certain failures
      const fs::path file = dir / name;
      std::ofstream(file) << m.text;
      const fs::path out = dir / "out";
      const Result r = Firstwall("run " + file.string() + " --out " + out.string() + " --quiet");
      const std::string what = name + ":" + std::to_string(m.line) + " " + m.kind;
      EXPECT_EQ(r.status, 2) << what << ": " << r.out;
      EXPECT_NE(r.out.find(file.string() + ":" + std::to_string(m.line) + ":"), std::string::npos)
          << what << ": " << r.out;
      EXPECT_FALSE(fs::exists(out)) << what;
      ++tried;
    }
  }
  EXPECT_GT(tried, 10);
  fs::remove_all(dir);
}

}  // namespace
