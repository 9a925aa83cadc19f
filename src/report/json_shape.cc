#include "report/json_shape.h"

#include "core/error.h"

namespace firstwall::report {
namespace {

using nlohmann::json;

const char* TypeName(JsonShape::Type t) {
  switch (t) {
    case JsonShape::Type::kString:
      return "a string";
    case JsonShape::Type::kNumber:
      return "a number";
    case JsonShape::Type::kBool:
      return "true or false";
    case JsonShape::Type::kArray:
      return "an array";
    case JsonShape::Type::kObject:
      return "an object";
  }
  return "";
}

bool Is(const json& v, JsonShape::Type t) {
  switch (t) {
    case JsonShape::Type::kString:
      return v.is_string();
    case JsonShape::Type::kNumber:
      return v.is_number();
    case JsonShape::Type::kBool:
      return v.is_boolean();
    case JsonShape::Type::kArray:
      return v.is_array();
    case JsonShape::Type::kObject:
      return v.is_object();
  }
  return false;
}

}  // namespace

void JsonShape::Fail(const std::string& what) const {
  throw InputError({path_, 0, 0}, what, as_written_);
}

void JsonShape::Fields(const json& o, std::initializer_list<Field> fields,
                       const std::string& where) const {
  if (!o.is_object()) {
    Fail((where.empty() ? std::string("the file") : where.substr(0, where.size() - 1)) +
         " should be an object, not " + o.type_name());
  }
  for (const Field& f : fields) {
    if (!o.contains(f.key)) {
      if (f.required) Fail(where + f.key + " is missing");
      continue;
    }
    const json& v = o[f.key];
    if ((f.nullable && v.is_null()) || Is(v, f.type)) continue;
    Fail(where + f.key + " should be " + TypeName(f.type) + (f.nullable ? " or null" : "") +
         ", not " + v.type_name());
  }
}

void JsonShape::ObjectsIn(const json& o, const char* key, std::initializer_list<Field> fields,
                          const std::string& where) const {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return;
  const json& a = o[key];
  if (!a.is_array()) Fail(where + key + " should be an array, not " + a.type_name());
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string at = where + key + "[" + std::to_string(i) + "]";
    if (!a[i].is_object()) Fail(at + " should be an object, not " + a[i].type_name());
    Fields(a[i], fields, at + ".");
  }
}

void JsonShape::NumbersIn(const json& o, const char* key, const std::string& where) const {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return;
  const json& a = o[key];
  if (!a.is_array()) Fail(where + key + " should be an array of numbers, not " + a.type_name());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_number()) {
      Fail(where + key + "[" + std::to_string(i) + "] should be a number, not " + a[i].type_name());
    }
  }
}

void JsonShape::NumberMap(const json& o, const char* key, const std::string& where) const {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return;
  const json& m = o[key];
  if (!m.is_object()) Fail(where + key + " should be an object, not " + m.type_name());
  for (const auto& [k, v] : m.items()) {
    if (!v.is_number() && !v.is_null()) {
      Fail(where + key + "." + k + " should be a number or null, not " + v.type_name());
    }
  }
}

std::string JsonShape::Text(const json& o, const char* key, const std::string& where) const {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return "";
  if (!o[key].is_string()) {
    Fail(where + key + " should be a string, not " + std::string(o[key].type_name()));
  }
  return o[key].get<std::string>();
}

}  // namespace firstwall::report
