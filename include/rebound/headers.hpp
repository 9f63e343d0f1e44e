// An ordered list of HTTP header fields with case-insensitive names.
//
// Thread safety: a value type; concurrent reads are safe, writes need
// external synchronisation.
#pragma once

#include <rebound/export.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rebound {

/// Compares header names ASCII-case-insensitively.
REBOUND_API bool iequals(std::string_view a, std::string_view b) noexcept;

class REBOUND_API Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  /// Appends a field (repeats allowed, order kept).
  Headers& add(std::string name, std::string value);
  /// Replaces every field of this name with one.
  Headers& set(std::string name, std::string value);
  /// Removes every field of this name; returns how many were removed.
  std::size_t remove(std::string_view name);
  /// The first value of the field, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  /// The first value or `fallback`.
  std::string_view value_or(std::string_view name, std::string_view fallback) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }
  void clear() noexcept { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }

 private:
  std::vector<Field> fields_;
};

}  // namespace rebound
