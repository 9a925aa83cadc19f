// Catalog cards: the first byte picks a GPU card (even) or a model card (odd); the rest is the
// file.
#include "fuzz/fuzz_main.h"
#include "scenario/catalog.h"
#include "scenario/reader.h"
#include "scenario/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool gpu = data[0] % 2 == 0;
  return firstwall::fuzz::Run(data + 1, size - 1, [gpu](const std::string& text) {
    using namespace firstwall::scenario;
    const Document doc = Document::Parse(text, "fuzz-card.yaml");
    const Section s(doc, gpu ? GpuCardSchema() : ModelCardSchema(), doc.root(), "", "",
                    doc.At(doc.root()));
    if (gpu) {
      ReadGpuCard(s, nullptr, true);
    } else {
      ReadModelCard(s, nullptr, false);
    }
  });
}
