// Strong quantity types. A Quantity holds one double in the SI base unit of its dimension
// (W, J, s, B, B/s, FLOP, FLOP/s, K, Hz, kg/s, m^3/s, USD/J) and is made only by the named
// factories below, so a value's unit is known wherever it travels. Dividing two quantities of one
// dimension gives a plain ratio; the products and quotients that mean something physically
// (power x time = energy, bytes / bandwidth = time, ...) are defined, the rest do not compile.
#pragma once

#include <compare>
#include <string_view>

namespace firstwall::units {

enum class Dimension {
  kPower,
  kEnergy,
  kDuration,
  kDataSize,
  kBandwidth,
  kFlopCount,
  kFlopRate,
  kTemperature,
  kFrequency,
  kMassFlow,
  kVolumeFlow,
  kEnergyPrice,
  kTemperatureDifference,  // kelvin; an approach, a loop's delta T
  kThermalResistance,      // kelvin per watt
  kCarbonIntensity,        // grams of CO2 per joule
  kApparentPower,          // volt-amperes: transformer and UPS nameplates
  kRequestRate,            // requests per second
};

// Human name of a dimension ("power", "data size", ...), for messages.
std::string_view DimensionName(Dimension d);

template <Dimension D>
class Quantity {
 public:
  static constexpr Dimension kDimension = D;

  constexpr Quantity() = default;
  // Escape hatch for code that already holds a value in the SI base unit (parsers, integrators).
  static constexpr Quantity FromBase(double v) { return Quantity(v); }
  constexpr double base() const { return v_; }

  constexpr Quantity operator+(Quantity o) const { return Quantity(v_ + o.v_); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(v_ - o.v_); }
  constexpr Quantity operator-() const { return Quantity(-v_); }
  constexpr Quantity& operator+=(Quantity o) {
    v_ += o.v_;
    return *this;
  }
  constexpr Quantity& operator-=(Quantity o) {
    v_ -= o.v_;
    return *this;
  }
  constexpr Quantity operator*(double k) const { return Quantity(v_ * k); }
  constexpr Quantity operator/(double k) const { return Quantity(v_ / k); }
  constexpr double operator/(Quantity o) const { return v_ / o.v_; }
  constexpr auto operator<=>(const Quantity&) const = default;

 private:
  constexpr explicit Quantity(double v) : v_(v) {}
  double v_ = 0.0;
};

template <Dimension D>
constexpr Quantity<D> operator*(double k, Quantity<D> q) {
  return q * k;
}

using Power = Quantity<Dimension::kPower>;
using Energy = Quantity<Dimension::kEnergy>;
using Duration = Quantity<Dimension::kDuration>;
using DataSize = Quantity<Dimension::kDataSize>;
using Bandwidth = Quantity<Dimension::kBandwidth>;
using FlopCount = Quantity<Dimension::kFlopCount>;
using FlopRate = Quantity<Dimension::kFlopRate>;
using Frequency = Quantity<Dimension::kFrequency>;
using MassFlow = Quantity<Dimension::kMassFlow>;
using VolumeFlow = Quantity<Dimension::kVolumeFlow>;
using EnergyPrice = Quantity<Dimension::kEnergyPrice>;
using TemperatureDifference = Quantity<Dimension::kTemperatureDifference>;
using ThermalResistance = Quantity<Dimension::kThermalResistance>;
using CarbonIntensity = Quantity<Dimension::kCarbonIntensity>;
using ApparentPower = Quantity<Dimension::kApparentPower>;
using RequestRate = Quantity<Dimension::kRequestRate>;

// Temperature is absolute (kelvin); sums of temperatures mean nothing, so only comparison and the
// difference in kelvin are offered.
class Temperature {
 public:
  static constexpr Dimension kDimension = Dimension::kTemperature;
  constexpr Temperature() = default;
  static constexpr Temperature FromBase(double kelvin) { return Temperature(kelvin); }
  constexpr double base() const { return k_; }
  constexpr auto operator<=>(const Temperature&) const = default;

 private:
  constexpr explicit Temperature(double k) : k_(k) {}
  double k_ = 0.0;
};

// ---- Named factories ----
constexpr Power Watts(double v) { return Power::FromBase(v); }
constexpr Power Kilowatts(double v) { return Power::FromBase(v * 1e3); }
constexpr Power Megawatts(double v) { return Power::FromBase(v * 1e6); }
constexpr Energy Joules(double v) { return Energy::FromBase(v); }
constexpr Energy KilowattHours(double v) { return Energy::FromBase(v * 3.6e6); }
constexpr Energy MegawattHours(double v) { return Energy::FromBase(v * 3.6e9); }
constexpr Duration Seconds(double v) { return Duration::FromBase(v); }
constexpr Duration Milliseconds(double v) { return Duration::FromBase(v * 1e-3); }
constexpr Duration Microseconds(double v) { return Duration::FromBase(v * 1e-6); }
constexpr Duration Minutes(double v) { return Duration::FromBase(v * 60.0); }
constexpr Duration Hours(double v) { return Duration::FromBase(v * 3600.0); }
constexpr DataSize Bytes(double v) { return DataSize::FromBase(v); }
constexpr DataSize Bits(double v) { return DataSize::FromBase(v / 8.0); }
constexpr DataSize Gigabytes(double v) { return DataSize::FromBase(v * 1e9); }
constexpr DataSize Gibibytes(double v) { return DataSize::FromBase(v * 1073741824.0); }
constexpr Bandwidth BytesPerSecond(double v) { return Bandwidth::FromBase(v); }
constexpr Bandwidth GigabytesPerSecond(double v) { return Bandwidth::FromBase(v * 1e9); }
constexpr Bandwidth TerabytesPerSecond(double v) { return Bandwidth::FromBase(v * 1e12); }
constexpr Bandwidth GigabitsPerSecond(double v) { return Bandwidth::FromBase(v * 1e9 / 8.0); }
constexpr FlopCount Flop(double v) { return FlopCount::FromBase(v); }
constexpr FlopRate FlopPerSecond(double v) { return FlopRate::FromBase(v); }
constexpr FlopRate TeraflopPerSecond(double v) { return FlopRate::FromBase(v * 1e12); }
constexpr Temperature Kelvin(double v) { return Temperature::FromBase(v); }
constexpr Temperature Celsius(double v) { return Temperature::FromBase(v + 273.15); }
constexpr TemperatureDifference KelvinDifference(double v) {
  return TemperatureDifference::FromBase(v);
}
constexpr Frequency Hertz(double v) { return Frequency::FromBase(v); }
constexpr Frequency Megahertz(double v) { return Frequency::FromBase(v * 1e6); }
constexpr MassFlow KilogramsPerSecond(double v) { return MassFlow::FromBase(v); }
constexpr VolumeFlow CubicMetersPerSecond(double v) { return VolumeFlow::FromBase(v); }
constexpr VolumeFlow LitersPerMinute(double v) { return VolumeFlow::FromBase(v * 1e-3 / 60.0); }
constexpr EnergyPrice UsdPerKilowattHour(double v) { return EnergyPrice::FromBase(v / 3.6e6); }

// ---- Named readers ----
constexpr double ToWatts(Power p) { return p.base(); }
constexpr double ToKilowatts(Power p) { return p.base() * 1e-3; }
constexpr double ToMegawatts(Power p) { return p.base() * 1e-6; }
constexpr double ToJoules(Energy e) { return e.base(); }
constexpr double ToKilowattHours(Energy e) { return e.base() / 3.6e6; }
constexpr double ToSeconds(Duration d) { return d.base(); }
constexpr double ToHours(Duration d) { return d.base() / 3600.0; }
constexpr double ToBytes(DataSize s) { return s.base(); }
constexpr double ToBytesPerSecond(Bandwidth b) { return b.base(); }
constexpr double ToFlop(FlopCount f) { return f.base(); }
constexpr double ToFlopPerSecond(FlopRate r) { return r.base(); }
constexpr double ToKelvin(Temperature t) { return t.base(); }
constexpr double ToCelsius(Temperature t) { return t.base() - 273.15; }
constexpr double ToHertz(Frequency f) { return f.base(); }
constexpr double ToKelvinDifference(TemperatureDifference d) { return d.base(); }
constexpr ThermalResistance KelvinPerWatt(double v) { return ThermalResistance::FromBase(v); }
constexpr double ToKelvinPerWatt(ThermalResistance r) { return r.base(); }
constexpr CarbonIntensity GramsPerKilowattHour(double v) {
  return CarbonIntensity::FromBase(v / 3.6e6);
}
constexpr double ToGramsPerKilowattHour(CarbonIntensity c) { return c.base() * 3.6e6; }
constexpr ApparentPower KilovoltAmperes(double v) { return ApparentPower::FromBase(v * 1e3); }
constexpr double ToVoltAmperes(ApparentPower s) { return s.base(); }
constexpr Temperature operator+(Temperature t, TemperatureDifference d) {
  return Temperature::FromBase(t.base() + d.base());
}
constexpr Temperature operator-(Temperature t, TemperatureDifference d) {
  return Temperature::FromBase(t.base() - d.base());
}
constexpr TemperatureDifference operator-(Temperature a, Temperature b) {
  return TemperatureDifference::FromBase(a.base() - b.base());
}
constexpr double ToUsdPerKilowattHour(EnergyPrice p) { return p.base() * 3.6e6; }

// ---- Physically meaningful cross-dimension arithmetic ----
constexpr Energy operator*(Power p, Duration d) { return Energy::FromBase(p.base() * d.base()); }
constexpr Energy operator*(Duration d, Power p) { return p * d; }
constexpr Power operator/(Energy e, Duration d) { return Power::FromBase(e.base() / d.base()); }
constexpr Duration operator/(Energy e, Power p) { return Duration::FromBase(e.base() / p.base()); }
constexpr Duration operator/(DataSize s, Bandwidth b) {
  return Duration::FromBase(s.base() / b.base());
}
constexpr Bandwidth operator/(DataSize s, Duration d) {
  return Bandwidth::FromBase(s.base() / d.base());
}
constexpr DataSize operator*(Bandwidth b, Duration d) {
  return DataSize::FromBase(b.base() * d.base());
}
constexpr Duration operator/(FlopCount f, FlopRate r) {
  return Duration::FromBase(f.base() / r.base());
}
constexpr FlopRate operator/(FlopCount f, Duration d) {
  return FlopRate::FromBase(f.base() / d.base());
}
constexpr FlopCount operator*(FlopRate r, Duration d) {
  return FlopCount::FromBase(r.base() * d.base());
}
// Price x energy is money; firstwall keeps money as a plain double in US dollars (`_usd` names).
constexpr double CostUsd(EnergyPrice p, Energy e) { return p.base() * e.base(); }

// Whether `a` is above (below) `b` by more than the rounding of their spellings: 140 USD/MWh
// read from a scenario and the 140 of a tariff's CSV, or 0.14 USD/kWh, differ in their last bits
// once in base units, and a threshold must not fire on its own value.
constexpr bool AboveBeyondRounding(double a, double b) {
  return a - b > 1e-9 * (a < 0 ? -a : a) + 1e-9 * (b < 0 ? -b : b);
}
constexpr bool BelowBeyondRounding(double a, double b) { return AboveBeyondRounding(b, a); }

}  // namespace firstwall::units
