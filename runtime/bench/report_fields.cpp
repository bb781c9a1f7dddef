#include "runtime/bench/report_fields.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "ir/error.h"

namespace brickc::bench {

using json = nlohmann::json;

namespace {
constexpr const char* kSchema = "brickc-bench/1";
}  // namespace

json read_report(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("{}: cannot open the bench report: {}", path, std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) text.append(buf, n);
  // A directory opens but cannot be read (EISDIR).
  if (std::ferror(f.get()))
    fail("{}: cannot read the bench report: {}", path, std::strerror(errno));
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail("{}: not JSON: {}", path, e.what());
  }
}

void check_report(const json& report, const std::string& source) {
  if (!report.is_object())
    fail("{}: expected a JSON object (a brickc bench --json report), found {}", source,
         report.type_name());
  if (const std::string schema = ReportFields(report, source).text("schema"); schema != kSchema)
    fail("{}: field schema is '{}', expected '{}'", source, schema, kSchema);
}

const json* ReportFields::section(const std::string& name) const {
  auto it = root_.find(name);
  if (it == root_.end() || it->is_null()) return nullptr;
  if (!it->is_object())
    fail("{}: field {}: expected an object, found {}", source_, name, it->type_name());
  return &*it;
}

double ReportFields::number(const std::string& field) const {
  const json& v = at(field, "a number");
  if (!v.is_number() || v.get<double>() < 0)
    fail("{}: field {}: expected a non-negative number, found {}", source_, field, v.dump());
  return v.get<double>();
}

double ReportFields::real(const std::string& field) const {
  const json& v = at(field, "a number");
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    fail("{}: field {}: expected a finite number, found {}", source_, field, v.dump());
  return v.get<double>();
}

int64_t ReportFields::integer(const std::string& field) const {
  const json& v = at(field, "an integer");
  if (!v.is_number_integer())
    fail("{}: field {}: expected an integer, found {}", source_, field, v.dump());
  return v.get<int64_t>();
}

uint64_t ReportFields::count(const std::string& field) const {
  const int64_t n = integer(field);
  if (n < 0) fail("{}: field {}: expected a count (an integer >= 0), found {}", source_, field, n);
  return static_cast<uint64_t>(n);
}

bool ReportFields::flag(const std::string& field) const {
  const json& v = at(field, "true or false");
  if (!v.is_boolean())
    fail("{}: field {}: expected true or false, found {}", source_, field, v.dump());
  return v.get<bool>();
}

std::string ReportFields::text(const std::string& field) const {
  const json& v = at(field, "a string");
  if (!v.is_string()) fail("{}: field {}: expected a string, found {}", source_, field, v.dump());
  return v.get<std::string>();
}

const json& ReportFields::at(const std::string& field, const char* expected) const {
  const json* j = &root_;
  for (size_t start = 0;;) {
    const size_t dot = field.find('.', start);
    const std::string key = field.substr(start, dot - start);
    if (!j->is_object() || !j->contains(key))
      fail("{}: field {} is missing (expected {})", source_, field, expected);
    j = &j->at(key);
    if (dot == std::string::npos) return *j;
    start = dot + 1;
  }
}

}  // namespace brickc::bench
