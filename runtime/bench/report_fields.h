// Reading a `brickc bench --json` report (schema brickc-bench/1): the file, its schema, and
// fields by dotted name, with errors that name the file and the field. What `brickc score`
// and `compile --annotate` share.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace brickc::bench {

// Opens, reads and parses the report at `path`; fails naming it.
nlohmann::json read_report(const std::string& path);
// Fails unless `report` is an object of schema brickc-bench/1; `source` names it.
void check_report(const nlohmann::json& report, const std::string& source);

// Fields of `root` by dotted name ("decode.median"); a missing or mistyped field fails
// naming `source` and the field. `root` must outlive this.
class ReportFields {
 public:
  ReportFields(const nlohmann::json& root, std::string source)
      : root_(root), source_(std::move(source)) {}

  // An optional section: nullptr when absent or null.
  const nlohmann::json* section(const std::string& name) const;
  double number(const std::string& field) const;  // non-negative
  double real(const std::string& field) const;    // any finite number
  int64_t integer(const std::string& field) const;
  uint64_t count(const std::string& field) const;  // an integer >= 0
  bool flag(const std::string& field) const;
  std::string text(const std::string& field) const;
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json& at(const std::string& field, const char* expected) const;

  const nlohmann::json& root_;
  std::string source_;
};

}  // namespace brickc::bench
