#include "live/calibrate.h"

#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {

const std::vector<ParameterInfo>& CalibrationParameters() {
  static const std::vector<ParameterInfo> kParams = {
      {"node_base_power", "cluster.node_base_power", "W", 0, 50000, 4,
       "non-GPU power of a node (CPUs, memory, NICs, fans)"},
      {"psu_efficiency", "facility.power_chain[{it}].efficiency", "", 0.80, 1.0, 0,
       "efficiency of the innermost IT-equipment stage (server PSUs)"},
      {"ups_efficiency", "facility.power_chain[{ups}].efficiency", "", 0.80, 1.0, 0,
       "efficiency of the stage named UPS"},
      {"ups_fixed_loss", "facility.power_chain[{ups}].fixed_loss", "W", 0, 1e6, 10,
       "no-load loss of the UPS stage"},
      {"cooling_capacity", "facility.cooling.capacity", "W", 1000, 1e10, 4,
       "design heat of the plant, which sizes its fans and chillers (the model's chiller "
       "capacity)"},
      {"pump_share", "facility.cooling.pump_share", "", 0, 0.2, 0, "pump power per unit of heat"},
      {"crah_fan_share", "facility.cooling.crah_fan_share", "", 0, 0.3, 0,
       "CRAH fan power per unit of air-side design heat"},
      {"sink_fan_share", "facility.cooling.sink_fan_share", "", 0, 0.2, 0,
       "tower or dry-cooler fan power per unit of heat rejected at design"},
      {"tower_approach", "facility.cooling.tower_approach", "K", 1, 15, 0,
       "tower leaving water above the wet bulb"},
      {"cdu_effectiveness", "facility.cooling.cdu_effectiveness", "", 0.3, 0.99, 0,
       "effectiveness of the CDU heat exchanger (GPU coolant above facility water)"},
      {"chip_to_coolant", "facility.cooling.chip_to_coolant", "K/W", 0.001, 1, 0,
       "GPU die above its coolant per watt (with --gpu-temperature die)"},
      {"cooling_cop", "facility.cooling.cop", "", 0.5, 100, 0,
       "constant whole-plant COP (only for a plant declared with cop)"},
  };
  return kParams;
}

std::string TwinParameter::SetLine(double value) const {
  return fmt::format("{}={:.9g}{}{}", key, value, unit.empty() ? "" : " ", unit);
}

TwinParameter ResolveParameter(const std::string& name, const std::string& scenario_path,
                               const site::SiteConfig& config,
                               const std::vector<scenario::Override>& sets) {
  const SourceLocation at{"--fit " + name, 0, 0};
  std::string names;
  for (const ParameterInfo& p : CalibrationParameters()) {
    names += (names.empty() ? "" : ", ") + p.name;
  }
  names += ", efficiency:STAGE";
  ParameterInfo info;
  const auto& stages = config.facility.power_chain;
  auto stage_where = [&](auto pred) -> std::string {
    for (const auto& s : stages) {
      if (pred(s)) return s.name;
    }
    return "";
  };
  if (name.starts_with("efficiency:")) {
    const std::string slug = name.substr(11);
    const std::string stage =
        stage_where([&](const power::ConversionStage& s) { return StageSlug(s.name) == slug; });
    if (stage.empty()) {
      std::string list;
      for (const auto& s : stages) list += (list.empty() ? "" : ", ") + StageSlug(s.name);
      throw InputError(at, fmt::format("the power chain has no stage '{}'", slug),
                       "stages: " + list);
    }
    info = {name, "facility.power_chain[" + stage + "].efficiency", "", 0.5, 1.0, 0, ""};
  } else {
    const auto& all = CalibrationParameters();
    const auto it = std::find_if(all.begin(), all.end(),
                                 [&](const ParameterInfo& p) { return p.name == name; });
    if (it == all.end()) {
      throw InputError(at, fmt::format("no twin parameter '{}'", name), "parameters: " + names);
    }
    info = *it;
  }
  const auto fill = [&](const std::string& placeholder, const std::string& stage,
                        const std::string& what) {
    const size_t p = info.key.find(placeholder);
    if (p == std::string::npos) return;
    if (stage.empty()) {
      throw InputError(at, fmt::format("the scenario's power chain has no {}", what),
                       "fit a stage by name: efficiency:STAGE");
    }
    info.key.replace(p, placeholder.size(), stage);
  };
  fill("{it}", stage_where([](const power::ConversionStage& s) { return s.it_equipment; }),
       "IT-equipment stage (it_equipment: true)");
  fill("{ups}", stage_where([](const power::ConversionStage& s) {
         return StageSlug(s.name).find("ups") != std::string::npos;
       }),
       "stage named UPS");
  const scenario::KeyValue kv = scenario::ReadKey(scenario::ReadScenarioFile(scenario_path),
                                                  scenario_path, info.key, at, sets);
  if (!kv.number) {
    throw InputError(at, fmt::format("the scenario gives no value of {} to start from", info.key),
                     "set it in the scenario (or with --set) first");
  }
  TwinParameter t{info.name, info.key, info.unit, *kv.number, info.lo, info.hi};
  if (info.span > 1 && t.start > 0) {
    t.lo = std::max(t.lo, t.start / info.span);
    t.hi = std::min(t.hi, t.start * info.span);
  }
  t.lo = std::min(t.lo, t.start);
  t.hi = std::max(t.hi, t.start);
  return t;
}

site::SiteConfig ConfigWith(const std::string& scenario_path,
                            const std::vector<scenario::Override>& sets,
                            const std::vector<TwinParameter>& parameters,
                            const std::vector<double>& values) {
  std::vector<scenario::Override> all = sets;
  for (size_t i = 0; i < parameters.size(); ++i) {
    all.push_back(scenario::ParseOverride(parameters[i].SetLine(values[i]),
                                          {"--fit " + parameters[i].name, 0, 0}));
  }
  return scenario::LoadScenarioFile(scenario_path, all).site;
}

double CalibrationObjective(const site::SiteConfig& config, const MeasuredSite& measured,
                            const Window& window) {
  const auto predicted = PredictSignals(config, measured);
  double sum = 0;
  for (const MeasuredSite::Signal& s : measured.signals) {
    const std::vector<double>& p = predicted.at(s.spec.name);
    double m = 0, d2 = 0;
    int n = 0;
    for (size_t k = window.first; k < window.last; ++k) {
      if (!std::isfinite(s.value[k]) || !std::isfinite(p[k])) continue;
      m += s.value[k];
      d2 += (s.value[k] - p[k]) * (s.value[k] - p[k]);
      ++n;
    }
    if (n == 0 || m == 0) continue;
    m /= n;
    sum += d2 / n / (m * m);
  }
  return sum;
}

namespace {

struct FitState {
  const std::string* path = nullptr;
  const std::vector<scenario::Override>* sets = nullptr;
  const std::vector<TwinParameter>* params = nullptr;
  const MeasuredSite* measured = nullptr;
  const Window* window = nullptr;
  int evaluations = 0;
  std::exception_ptr error;
  nlopt_opt opt = nullptr;
};

// NLopt sees each parameter scaled to [0, 1] between its bounds.
double Objective(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;  // derivative-free: never asked for
  auto* st = static_cast<FitState*>(data);
  ++st->evaluations;
  try {
    std::vector<double> v(n);
    for (unsigned i = 0; i < n; ++i) {
      const TwinParameter& p = (*st->params)[i];
      v[i] = p.lo + x[i] * (p.hi - p.lo);
    }
    return CalibrationObjective(ConfigWith(*st->path, *st->sets, *st->params, v), *st->measured,
                                *st->window);
  } catch (...) {
    st->error = std::current_exception();
    nlopt_force_stop(st->opt);
    return HUGE_VAL;
  }
}

std::string ResultText(nlopt_result r) {
  switch (r) {
    case NLOPT_SUCCESS:
      return "success";
    case NLOPT_STOPVAL_REACHED:
      return "objective reached its floor";
    case NLOPT_FTOL_REACHED:
      return "converged (objective tolerance)";
    case NLOPT_XTOL_REACHED:
      return "converged (parameter tolerance)";
    case NLOPT_MAXEVAL_REACHED:
      return "stopped at the evaluation limit";
    case NLOPT_MAXTIME_REACHED:
      return "stopped at the time limit";
    case NLOPT_ROUNDOFF_LIMITED:
      return "stopped by round-off";
    case NLOPT_FORCED_STOP:
      return "stopped";
    default:
      return fmt::format("failed (NLopt code {})", static_cast<int>(r));
  }
}

}  // namespace

CalibrationResult Calibrate(const std::string& scenario_path,
                            const std::vector<scenario::Override>& sets,
                            const std::vector<TwinParameter>& parameters,
                            const MeasuredSite& measured, const Window& window,
                            int max_evaluations) {
  FW_CHECK(!parameters.empty(), "nothing to fit");
  const auto n = static_cast<unsigned>(parameters.size());
  CalibrationResult r;
  r.parameters = parameters;
  // BOBYQA builds a quadratic model from 2n + 1 points and Powell wrote it for n >= 2, so a single
  // parameter goes to Subplex (also derivative-free and bounded).
  const nlopt_algorithm algorithm = n >= 2 ? NLOPT_LN_BOBYQA : NLOPT_LN_SBPLX;
  r.algorithm = n >= 2 ? "NLopt LN_BOBYQA" : "NLopt LN_SBPLX";
  FitState st;
  st.path = &scenario_path;
  st.sets = &sets;
  st.params = &parameters;
  st.measured = &measured;
  st.window = &window;
  st.opt = nlopt_create(algorithm, n);
  FW_CHECK(st.opt != nullptr, "NLopt could not create its optimizer");
  std::vector<double> lo(n, 0.0), hi(n, 1.0), x(n), step(n, 0.1);
  for (unsigned i = 0; i < n; ++i) {
    const TwinParameter& p = parameters[i];
    x[i] = p.hi > p.lo ? (p.start - p.lo) / (p.hi - p.lo) : 0.0;
  }
  nlopt_set_lower_bounds(st.opt, lo.data());
  nlopt_set_upper_bounds(st.opt, hi.data());
  nlopt_set_min_objective(st.opt, Objective, &st);
  nlopt_set_xtol_rel(st.opt, 1e-7);
  nlopt_set_ftol_abs(st.opt, 1e-14);
  // The starting point below is one run of the twin: NLopt gets the rest.
  nlopt_set_maxeval(st.opt, std::max(1, max_evaluations - 1));
  nlopt_set_initial_step(st.opt, step.data());
  r.objective_start = Objective(n, x.data(), nullptr, &st);
  double best = 0;
  const nlopt_result res = nlopt_optimize(st.opt, x.data(), &best);
  nlopt_destroy(st.opt);
  if (st.error) std::rethrow_exception(st.error);
  r.status = ResultText(res);
  r.evaluations = st.evaluations;
  r.objective_fitted = best;
  for (unsigned i = 0; i < n; ++i) {
    const TwinParameter& p = parameters[i];
    r.fitted.push_back(p.lo + x[i] * (p.hi - p.lo));
  }
  return r;
}

}  // namespace firstwall::live
