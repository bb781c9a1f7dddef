// `brickc inspect`: what a GGUF file holds — header, metadata, tensor table, totals — as
// aligned text for people or, with --json, as one JSON object for scripts and tests.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "frontend/gguf/reader.h"
#include "tools/brickc/commands.h"

namespace brickc::tools {
namespace {

using gguf::Array;
using gguf::File;
using gguf::Value;
using gguf::ValueType;
using Json = nlohmann::ordered_json;

constexpr std::string_view kChatTemplate = "tokenizer.chat_template";

std::string human_bytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double x = static_cast<double>(n);
  int u = -1;
  while (x >= 1024 && u < 3) {
    x /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", x, units[u]);
}

std::string human_count(uint64_t n) {
  if (n < 1000) return fmt::format("{}", n);
  const char* units[] = {"K", "M", "B", "T"};
  double x = static_cast<double>(n);
  int u = -1;
  while (x >= 1000 && u < 3) {
    x /= 1000;
    ++u;
  }
  return fmt::format("{:.2f} {}", x, units[u]);
}

std::string type_text(const Value& v) {
  if (v.type != ValueType::ARRAY) return std::string(gguf::name(v.type));
  return fmt::format("{}[]", gguf::name(std::get<Array>(v.v).elem));
}

struct TypeTotal {
  uint64_t tensors = 0, params = 0, bytes = 0;
};

struct Totals {
  std::map<std::string, TypeTotal> by_type;  // by ggml type name
  TypeTotal all;
};

Totals totals_of(const File& f) {
  Totals t;
  for (const auto& ti : f.tensors()) {
    for (TypeTotal* x : {&t.by_type[std::string(name(ti.type))], &t.all}) {
      x->tensors += 1;
      x->params += static_cast<uint64_t>(ti.n_elements());
      x->bytes += ti.nbytes;
    }
  }
  return t;
}

// Floats as JSON numbers, except the values JSON has no number for.
Json scalar_json(const Value& v) {
  switch (v.type) {
    case ValueType::F32: case ValueType::F64: {
      double x = std::get<double>(v.v);
      if (std::isnan(x)) return "nan";
      if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
      return x;
    }
    case ValueType::BOOL: return std::get<bool>(v.v);
    case ValueType::STRING: return std::get<std::string>(v.v);
    default:
      if (const auto* u = std::get_if<uint64_t>(&v.v)) return *u;
      return std::get<int64_t>(v.v);
  }
}

Json to_json(const File& f) {
  Json j;
  j["file"] = f.path();
  j["version"] = f.version();
  j["alignment"] = f.alignment();
  j["splits"] = f.n_splits();
  j["parts"] = Json::array();
  for (uint32_t i = 0; i < f.n_splits(); ++i)
    j["parts"].push_back(
        {{"path", f.part_path(i)}, {"bytes", f.part_bytes(i)}, {"data_offset", f.data_offset(i)}});
  Json md = Json::object();
  for (const auto& [key, v] : f.metadata()) {
    Json e;
    if (v.type == ValueType::ARRAY) {
      const auto& a = std::get<Array>(v.v);
      e["type"] = "array";
      e["elem_type"] = gguf::name(a.elem);
      Json items = Json::array();
      for (const auto& x : a.items) items.push_back(scalar_json(x));
      e["value"] = std::move(items);
    } else {
      e["type"] = gguf::name(v.type);
      e["value"] = scalar_json(v);
    }
    md[key] = std::move(e);
  }
  j["metadata"] = std::move(md);
  Json ts = Json::array();
  for (const auto& t : f.tensors())
    ts.push_back({{"name", t.name}, {"type", name(t.type)}, {"ne", t.ne}, {"offset", t.offset},
                  {"nbytes", t.nbytes}, {"split", t.split}});
  j["tensors"] = std::move(ts);
  Totals tot = totals_of(f);
  Json by_type = Json::object();
  for (const auto& [type, x] : tot.by_type)
    by_type[type] = {{"tensors", x.tensors}, {"parameters", x.params}, {"bytes", x.bytes}};
  j["totals"] = {{"tensors", tot.all.tensors}, {"parameters", tot.all.params},
                 {"bytes", tot.all.bytes}, {"by_type", std::move(by_type)}};
  return j;
}

void print_text(const File& f) {
  fmt::print("file       {}\n", f.path());
  fmt::print("version    {}\n", f.version());
  fmt::print("alignment  {}\n", f.alignment());
  fmt::print("splits     {}\n", f.n_splits());
  if (f.n_splits() > 1)
    for (uint32_t i = 0; i < f.n_splits(); ++i)
      fmt::print("  part {}   {}  ({})\n", i + 1, f.part_path(i), human_bytes(f.part_bytes(i)));
  fmt::print("size       {}\n", human_bytes(f.total_bytes()));

  size_t key_w = 3, type_w = 4;
  for (const auto& [key, v] : f.metadata()) {
    key_w = std::max(key_w, key.size());
    type_w = std::max(type_w, type_text(v).size());
  }
  fmt::print("\nmetadata ({} keys)\n", f.metadata().size());
  for (const auto& [key, v] : f.metadata())
    fmt::print("  {:<{}}  {:<{}}  {}\n", key, key_w, type_text(v), type_w, v.to_string());

  // Chat users need the template verbatim; the table above shows only its start.
  if (const Value* t = f.find(kChatTemplate); t && t->type == ValueType::STRING)
    fmt::print("\n{} (full)\n{}\n", kChatTemplate, std::get<std::string>(t->v));

  size_t name_w = 4, type_col = 4, shape_w = 5, bytes_w = 5;
  for (const auto& t : f.tensors()) {
    name_w = std::max(name_w, t.name.size());
    type_col = std::max(type_col, name(t.type).size());
    shape_w = std::max(shape_w, t.shape_string().size());
    bytes_w = std::max(bytes_w, human_bytes(t.nbytes).size());
  }
  bool split = f.n_splits() > 1;
  fmt::print("\ntensors ({})\n", f.tensors().size());
  fmt::print("  {:<{}}  {:<{}}  {:<{}}  {:>{}}{}\n", "name", name_w, "type", type_col, "shape",
             shape_w, "bytes", bytes_w, split ? "  part" : "");
  for (const auto& t : f.tensors())
    fmt::print("  {:<{}}  {:<{}}  {:<{}}  {:>{}}{}\n", t.name, name_w, name(t.type), type_col,
               t.shape_string(), shape_w, human_bytes(t.nbytes), bytes_w,
               split ? fmt::format("  {}", t.split + 1) : "");

  Totals tot = totals_of(f);
  size_t tw = 5;
  for (const auto& [type, _] : tot.by_type) tw = std::max(tw, type.size());
  auto row = [&](std::string_view label, const TypeTotal& x) {
    fmt::print("  {:<{}}  {:>6} tensors  {:>10} parameters  {:>10}\n", label, tw, x.tensors,
               human_count(x.params), human_bytes(x.bytes));
  };
  fmt::print("\ntotals\n");
  for (const auto& [type, x] : tot.by_type) row(type, x);
  row("total", tot.all);
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  struct Flags {
    std::string model;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a GGUF file's header, metadata and tensors");
  cmd->add_option("-m,--model", flags->model, "GGUF file (or the first part of a split model)")
      ->required();
  cmd->add_flag("--json", flags->json, "Print one JSON object (arrays in full) instead of text");
  cmd->callback([flags] {
    auto f = File::open(flags->model);
    if (flags->json) {
      // Invalid UTF-8 in a string (possible in arbitrary files) becomes U+FFFD rather
      // than an exception: the JSON must always print.
      std::string s = to_json(*f).dump(-1, ' ', false, Json::error_handler_t::replace);
      s += '\n';
      std::fwrite(s.data(), 1, s.size(), stdout);
    } else {
      print_text(*f);
    }
  });
}

}  // namespace brickc::tools
