#include "reliability/checkpoint.h"

#include <cmath>

#include "core/error.h"

namespace firstwall::reliability {
namespace {
bool Positive(double v) { return v > 0 && std::isfinite(v); }
}  // namespace

double YoungIntervalS(double write_s, double mtbi_s) {
  FW_CHECK(Positive(write_s) && Positive(mtbi_s), "Young's interval needs positive times");
  return std::sqrt(2 * write_s * mtbi_s);
}

double DalyIntervalS(double write_s, double mtbi_s) {
  FW_CHECK(Positive(write_s) && Positive(mtbi_s), "Daly's interval needs positive times");
  if (write_s >= 2 * mtbi_s) return mtbi_s;
  const double x = write_s / (2 * mtbi_s);
  return std::sqrt(2 * write_s * mtbi_s) * (1 + std::sqrt(x) / 3 + x / 9) - write_s;
}

double DalyEttr(double interval_s, double write_s, double restart_s, double mtbi_s) {
  FW_CHECK(Positive(interval_s) && Positive(write_s) && Positive(mtbi_s) && restart_s >= 0 &&
               std::isfinite(restart_s),
           "Daly's wall time needs positive times");
  // expm1 keeps precision when tau + delta << M.
  return interval_s /
         (mtbi_s * std::exp(restart_s / mtbi_s) * std::expm1((interval_s + write_s) / mtbi_s));
}

}  // namespace firstwall::reliability
