// `brickc score`: one 0-100 number and a grade A-F for a `brickc bench --json` report
// (schema brickc-bench/1), from four parts (README.md, "Score"). Reads reports; not the measuring.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace brickc::bench {

struct ScorePart {
  std::string name;  // performance | efficiency | correctness | stability
  double points = 0, max = 0;
  nlohmann::ordered_json inputs = nlohmann::ordered_json::object();  // report fields used
  std::string note{};  // why points are missing or cut; empty when there is nothing to say
};

struct Score {
  std::string source;  // the report's file, for the printout
  std::vector<ScorePart> parts;
  double total = 0;  // sum of the parts, each rounded to 0.01 points
  char grade = 'F';
  std::string grade_note;  // why the grade is capped; empty when it is not
};

// Scores a parsed report; `source` names it in errors, which give the field (decode.median)
// and what was expected. Optional sections (roofline, profile, verify) may be absent or null.
Score score_report(const nlohmann::json& report, const std::string& source);
// Reads and scores the report at `path`; errors name the file.
Score score_file(const std::string& path);

std::string format_score(const Score& s);
nlohmann::ordered_json score_json(const Score& s);

}  // namespace brickc::bench
