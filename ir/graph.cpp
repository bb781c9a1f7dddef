#include "ir/graph.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "ir/error.h"

namespace brickc::ir {

ValueId Graph::add_value(Value v) {
  // Names must print as a '%' token that the parser reads back.
  bool valid = !v.name.empty();
  for (char c : v.name)
    valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  if (!valid) fail("graph {}: '{}' is not a value name (letters, digits, '_', '.')", name, v.name);
  if (by_name_.contains(v.name)) fail("graph {}: value %{} is already defined", name, v.name);
  ValueId id{static_cast<uint32_t>(values_.size())};
  by_name_.emplace(v.name, id.index);
  values_.push_back(std::move(v));
  return id;
}

ValueId Graph::declare(ValueKind kind, std::string n, TensorType type, std::string tensor,
                       Loc loc) {
  if (kind == ValueKind::Result)
    fail("graph {}: %{} is a brick result, not a declaration", name, n);
  return add_value(Value{std::move(n), std::move(type), kind, std::move(tensor), loc});
}

ValueId Graph::add_result_value(std::string n, TensorType type, Loc loc) {
  return add_value(Value{std::move(n), std::move(type), ValueKind::Result, {}, loc});
}

Brick& Graph::append(BrickKind kind, std::vector<ValueId> operands, std::vector<NamedType> results,
                     Attrs attrs, int layer) {
  Brick b{kind, std::move(operands), {}, std::move(attrs), layer, std::nullopt, {}};
  for (auto& r : results)
    b.results.push_back(add_result_value(std::move(r.name), std::move(r.type)));
  bricks_.push_back(std::move(b));
  return bricks_.back();
}

std::optional<ValueId> Graph::find(std::string_view n) const {
  auto it = by_name_.find(std::string(n));
  if (it == by_name_.end()) return std::nullopt;
  return ValueId{it->second};
}

std::string Graph::unique_name(std::string_view stem) const {
  if (!find(stem)) return std::string(stem);
  for (int i = 1;; ++i) {
    auto n = fmt::format("{}.{}", stem, i);
    if (!find(n)) return n;
  }
}

void Graph::replace_all_uses(ValueId from, ValueId to) {
  for (auto& b : bricks_)
    for (auto& o : b.operands)
      if (o == from) o = to;
  for (auto& o : outputs)
    if (o == from) o = to;
}

std::optional<size_t> Graph::producer(ValueId v) const {
  for (size_t i = 0; i < bricks_.size(); ++i)
    for (ValueId r : bricks_[i].results)
      if (r == v) return i;
  return std::nullopt;
}

std::vector<size_t> Graph::users(ValueId v) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < bricks_.size(); ++i)
    for (ValueId o : bricks_[i].operands)
      if (o == v) {
        out.push_back(i);
        break;
      }
  return out;
}

size_t Graph::find_brick(std::string_view spec) const {
  if (spec.starts_with('%')) {
    const auto v = find(spec.substr(1));
    const auto b = v ? producer(*v) : std::nullopt;
    if (!b) fail("graph @{}: no brick defines {}", name, spec);
    return *b;
  }
  const size_t at = spec.find('@');
  const std::string_view kw = spec.substr(0, at);
  const auto kind = brick_kind_from_keyword(kw);
  if (!kind) fail("graph @{}: '{}' names no brick kind (expected %value or kind@layer)", name, kw);
  int layer = -1;
  if (at != std::string_view::npos) {
    const std::string_view l = spec.substr(at + 1);
    const auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), layer);
    if (ec != std::errc{} || end != l.data() + l.size() || layer < 0)
      fail("graph @{}: '{}' in '{}' is not a layer number", name, l, spec);
  }
  for (size_t i = 0; i < bricks_.size(); ++i)
    if (bricks_[i].kind == *kind && bricks_[i].layer == layer) return i;
  fail("graph @{}: no {} brick {}", name, kw,
       layer < 0 ? std::string("outside the layers") : fmt::format("in layer {}", layer));
}

}  // namespace brickc::ir
