// Formatting of numbers for people and files without negative zero. A value that rounds to zero
// at the precision asked for prints as zero, never "-0.00": a mean of -1e-18 (sums of terms that
// cancel) or an IEEE -0.0 carries no sign worth showing. Every figure firstwall prints or writes
// (summary text and JSON, timeseries.csv, the CLI's tables) goes through these.
//
//   txt::format("{:.2f} MW", x)      as fmt::format, floating-point arguments without negative
//                                    zero (named like fmt's, so a call site changes one word)
//   txt::format_to(out, "{:.2f}", x) as fmt::format_to
//   txt::fixed(x, decimals)          x with a number of decimals chosen at run time
//   txt::power(watts)                a power for people: kW below 10 MW, MW from 10 MW
//   txt::DropNegativeZero(json)      every -0.0 in a JSON document made 0.0 (nlohmann: "-0.0")
//   txt::json_text(json)             the document as firstwall writes it: indented by 2, invalid
//                                    UTF-8 replaced, no negative zero
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace firstwall::txt {

// A floating-point value to format with fmt's double specs, its sign dropped when it prints as 0.
struct SignedZeroFree {
  double value;
};

namespace format_detail {
// `v`, or +0.0 where it is negative and prints as zero with `decimals` digits after the point
// (decimals < 0: precision unknown, only -0.0 itself).
inline double UnsignedIfZero(double v, int decimals) {
  if (!std::signbit(v)) return v;
  if (v == 0 || (decimals >= 0 && -v < 0.5 * std::pow(10.0, -static_cast<double>(decimals)))) {
    return 0.0;
  }
  return v;
}

template <class T>
inline constexpr bool kFloat =
    std::is_floating_point_v<std::remove_cv_t<std::remove_reference_t<T>>>;
template <class T>
using Arg = std::conditional_t<kFloat<T>, SignedZeroFree, T>;
template <class T>
decltype(auto) Wrap(T&& v) {
  if constexpr (kFloat<T>) {
    return SignedZeroFree{static_cast<double>(v)};
  } else {
    return std::forward<T>(v);
  }
}
}  // namespace format_detail

template <class... A>
std::string format(fmt::format_string<format_detail::Arg<A>...> f, A&&... args) {
  return fmt::format(f, format_detail::Wrap(std::forward<A>(args))...);
}

template <class Out, class... A>
Out format_to(Out out, fmt::format_string<format_detail::Arg<A>...> f, A&&... args) {
  return fmt::format_to(out, f, format_detail::Wrap(std::forward<A>(args))...);
}

// `v` in fixed notation with `decimals` digits after the point (a precision chosen at run time),
// without negative zero.
inline std::string fixed(double v, int decimals) {
  return fmt::format("{:.{}f}", format_detail::UnsignedIfZero(v, decimals), decimals);
}

// The printed summary's unit for a power of `watts`: MW at or above 10 MW, kW below (a
// 1,000,000-GPU site's peak reads "1400.0 MW", not "1400000.0 kW"; a rack's stays "11.0 kW").
// Files keep their units in their names (summary.json's peak_it_power_kw, swings.csv's _mw).
struct PowerUnit {
  double watts;  // per unit
  std::string_view symbol;
};
inline PowerUnit PowerUnitFor(double watts) {
  return std::abs(watts) >= 10e6 ? PowerUnit{1e6, "MW"} : PowerUnit{1e3, "kW"};
}
// `watts` in unit `u` with `decimals` digits after the point; `per` follows the unit for a rate
// ("/s": "530.0 kW/s"). Figures compared side by side share the unit of the larger.
inline std::string power_in(PowerUnit u, double watts, int decimals = 1,
                            std::string_view per = {}) {
  return fixed(watts / u.watts, decimals) + " " + std::string(u.symbol) + std::string(per);
}
// `watts` in its own PowerUnitFor unit.
inline std::string power(double watts, int decimals = 1, std::string_view per = {}) {
  return power_in(PowerUnitFor(watts), watts, decimals, per);
}

// -0.0 anywhere in `j` (objects and arrays, recursively) becomes 0.0.
template <class Json>
void DropNegativeZero(Json& j) {
  if (j.is_number_float()) {
    if (j.template get<double>() == 0.0) j = 0.0;
  } else if (j.is_structured()) {
    for (auto& v : j) DropNegativeZero(v);
  }
}

template <class Json>
std::string json_text(Json j) {
  DropNegativeZero(j);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace firstwall::txt

// fmt's double formatter, after setting to +0.0 any negative value that would print as zero: in
// fixed notation ('f', 6 decimals unless given) one of magnitude below half a unit of the last
// digit, in the others (and with a precision given at run time, "{:.{}f}": use txt::fixed) only
// -0.0 itself.
template <>
struct fmt::formatter<firstwall::txt::SignedZeroFree> : fmt::formatter<double> {
  int decimals = -1;  // digits after the point in fixed notation; -1 for the other notations

  constexpr auto parse(format_parse_context& ctx) -> decltype(ctx.begin()) {
    int precision = -1;
    char type = 0;
    auto p = ctx.begin();
    for (; p != ctx.end() && *p != '}'; ++p) {
      if (*p == '{') return fmt::formatter<double>::parse(ctx);  // a run-time width or precision
      if (*p == '.') {
        precision = 0;
        while (p + 1 != ctx.end() && *(p + 1) >= '0' && *(p + 1) <= '9') {
          precision = precision * 10 + (*++p - '0');
        }
      }
      type = *p;
    }
    if (type == 'f' || type == 'F') decimals = precision >= 0 ? precision : 6;
    return fmt::formatter<double>::parse(ctx);
  }

  template <class Context>
  auto format(firstwall::txt::SignedZeroFree x, Context& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<double>::format(
        firstwall::txt::format_detail::UnsignedIfZero(x.value, decimals), ctx);
  }
};
