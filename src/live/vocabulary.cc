#include "live/vocabulary.h"

namespace firstwall::live {
namespace {
template <class Range, class Name>
std::string Join(const Range& r, Name name) {
  std::string out;
  for (const auto& x : r) {
    if (!out.empty()) out += '|';
    out += name(x);
  }
  return out;
}
}  // namespace

const QuantityKind* FindQuantity(std::string_view name) {
  for (const QuantityKind& q : kQuantities) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

const UnitKind* FindUnit(std::string_view name) {
  for (const UnitKind& u : kUnits) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

bool IsEntityKind(std::string_view name) {
  for (std::string_view e : kEntityKinds) {
    if (e == name) return true;
  }
  return false;
}

std::string EntityChoices() {
  return Join(kEntityKinds, [](std::string_view e) { return std::string(e); });
}
std::string QuantityChoices() {
  return Join(kQuantities, [](const QuantityKind& q) { return std::string(q.name); });
}
std::string UnitChoices() {
  return Join(kUnits, [](const UnitKind& u) { return std::string(u.name); });
}

}  // namespace firstwall::live
