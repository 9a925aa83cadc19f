// Type checks of the JSON files the HTML report reads (summary.json, walls.json, a sweep's
// manifest.json): a value of another type than firstwall writes is an InputError naming the file
// and the value's place (exit 2), never the JSON library's exception or a page drawn wrong.
#pragma once

#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

namespace firstwall::report {

class JsonShape {
 public:
  // `path`: the file; `as_written`: what it should be, for the message ("summary.json as
  // `firstwall run` writes it").
  JsonShape(std::string path, std::string as_written)
      : path_(std::move(path)), as_written_(std::move(as_written)) {}

  enum class Type { kString, kNumber, kBool, kArray, kObject };
  struct Field {
    const char* key;
    Type type;
    bool nullable = true;  // null passes (firstwall writes null for a figure it has not)
    bool required = false;
  };

  // Checks `o` (which must be an object) key by key; `where` prefixes the keys in messages
  // ("services[0]."). A missing key passes unless required.
  void Fields(const nlohmann::json& o, std::initializer_list<Field> fields,
              const std::string& where) const;
  // o[key], where present, must be an array of objects each with `fields`.
  void ObjectsIn(const nlohmann::json& o, const char* key, std::initializer_list<Field> fields,
                 const std::string& where) const;
  // o[key], where present, must be an array of numbers.
  void NumbersIn(const nlohmann::json& o, const char* key, const std::string& where) const;
  // o[key], where present, must be an object whose every value is a number or null.
  void NumberMap(const nlohmann::json& o, const char* key, const std::string& where) const;
  // o[key] as text: "" when missing or null; another type fails.
  std::string Text(const nlohmann::json& o, const char* key, const std::string& where) const;
  [[noreturn]] void Fail(const std::string& what) const;

 private:
  std::string path_, as_written_;
};

}  // namespace firstwall::report
