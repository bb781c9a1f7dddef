#include "ir/printer.h"

#include <fmt/format.h>

#include "ir/cost.h"
#include "ir/error.h"

namespace brickc::ir {
namespace {

// Trailing cost comments start at this column where the line is shorter.
constexpr size_t kCommentColumn = 72;

std::string with_point(std::string s) {
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // 'n': inf/nan stay as is
  return s;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\')
      out += fmt::format("\\{}", static_cast<char>(c));
    else if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string attr_text(const Attr& a) {
  if (const auto* i = std::get_if<int64_t>(&a)) return fmt::format("{}", *i);
  return format_real(std::get<float>(a));
}

void append_line(std::string& out, int indent, const std::string& text,
                 const std::string& comment) {
  std::string line(indent, ' ');
  line += text;
  if (!comment.empty()) {
    line.append(line.size() + 2 < kCommentColumn ? kCommentColumn - line.size() : 2, ' ');
    line += "// " + comment;
  }
  out += line + '\n';
}

std::string value_list(const Graph& g, const std::vector<ValueId>& ids) {
  std::string s;
  for (ValueId v : ids) s += (s.empty() ? "%" : ", %") + g.value(v).name;
  return s;
}

std::string brick_text(const Graph& g, const Brick& b) {
  std::string s = value_list(g, b.results);
  s += fmt::format(" = {}", keyword(b.kind));
  if (!b.operands.empty()) s += " " + value_list(g, b.operands);
  std::vector<std::string> attrs;
  for (const auto& [k, v] : b.attrs) attrs.push_back(fmt::format("{} = {}", k, attr_text(v)));
  if (b.budget_us) attrs.push_back(fmt::format("budget_us = {}", format_real(*b.budget_us)));
  if (!attrs.empty()) s += fmt::format(" {{{}}}", fmt::join(attrs, ", "));
  std::vector<std::string> types;
  for (ValueId r : b.results) types.push_back(to_string(g.type(r)));
  s += fmt::format(" : {}", fmt::join(types, ", "));
  return s;
}

std::string_view decl_keyword(ValueKind k) {
  switch (k) {
    case ValueKind::Input:
      return "input";
    case ValueKind::Weight:
      return "weight";
    case ValueKind::State:
      return "state";
    case ValueKind::Result:
      break;
  }
  return "";
}

}  // namespace

std::string format_real(double v) { return with_point(fmt::format("{}", v)); }
std::string format_real(float v) { return with_point(fmt::format("{}", v)); }

std::string print(const Graph& g, std::span<const std::string> brick_notes) {
  std::string out;
  out += g.n_tokens == 1
             ? fmt::format("graph @{} {{kv_len = {}}}\n", g.name, g.kv_len)
             : fmt::format("graph @{} {{kv_len = {}, n_tokens = {}}}\n", g.name, g.kv_len,
                           g.n_tokens);
  for (const auto& [key, text] : g.notes) {
    std::string_view rest = text;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      out += fmt::format("// {}\n", rest.substr(0, nl));
      rest = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
    }
  }
  // With budgets set, each brick's comment also gives its share of the step, so that the
  // bottleneck stands out in a dump.
  double step_us = 0;
  for (const auto& b : g.bricks()) step_us += b.budget_us.value_or(0.0);
  bool declared = false;
  for (uint32_t i = 0; i < g.value_count(); ++i) {
    const Value& v = g.value(ValueId{i});
    if (v.kind == ValueKind::Result) continue;
    declared = true;
    auto text = fmt::format("{} %{} : {}", decl_keyword(v.kind), v.name, to_string(v.type));
    if (!v.tensor.empty()) text += " = " + quote(v.tensor);
    append_line(out, 0, text, v.kind == ValueKind::Input ? "" : format_bytes(v.type.bytes()));
  }
  if (declared && !g.bricks().empty()) out += '\n';
  if (!brick_notes.empty() && brick_notes.size() != g.bricks().size())
    fail("internal: {} brick notes for {} bricks", brick_notes.size(), g.bricks().size());
  int open_layer = -1;
  for (size_t i = 0; i < g.bricks().size(); ++i) {
    const Brick& b = g.bricks()[i];
    if (b.layer != open_layer) {
      if (open_layer >= 0) out += "}\n";
      if (b.layer >= 0) out += fmt::format("layer {} {{\n", b.layer);
      open_layer = b.layer;
    }
    auto c = cost(g, b);
    std::string comment = c ? format_cost(*c) : "";
    if (b.budget_us && step_us > 0)
      comment += fmt::format(", {:.1f}% of step", 100.0 * *b.budget_us / step_us);
    if (!brick_notes.empty() && !brick_notes[i].empty()) comment += " | " + brick_notes[i];
    append_line(out, open_layer >= 0 ? 2 : 0, brick_text(g, b), comment);
  }
  if (open_layer >= 0) out += "}\n";
  if (!g.outputs.empty()) out += "output " + value_list(g, g.outputs) + "\n";
  out += fmt::format("// total: {}\n", format_cost(total_cost(g)));
  return out;
}

}  // namespace brickc::ir
