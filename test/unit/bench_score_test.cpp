// `brickc score` (runtime/bench/score): reports built with random measurements, scored against
// the README's formula written out again here piece by piece, the boundary values, the
// grade cap on failed checks, missing sections, and errors that name the field.
#include "runtime/bench/score.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace bb = brickc::bench;
using json = nlohmann::json;

namespace {

struct Measured {
  double pct_bandwidth = 50, roofline_us = 700, step_us = 1300;
  int64_t checks = 1000, failures = 0;
  double cv = 0.02, p50_ms = 1.3, p99_ms = 1.4;
  int reps = 5;
};

json report(const Measured& m) {
  return {
      {"schema", "brickc-bench/1"},
      {"decode", {{"n", m.reps}, {"median", 758.5}, {"cv", m.cv}}},
      {"token_latency_ms", {{"p50", m.p50_ms}, {"p99", m.p99_ms}}},
      {"roofline",
       {{"profile", "h100-sxm"}, {"bandwidth_gbs", 3350.0}, {"pct_bandwidth", m.pct_bandwidth}}},
      {"profile", {{"steps", 128}, {"step_p50_us", m.step_us}, {"roofline_us", m.roofline_us}}},
      {"verify",
       {{"steps", 16},
        {"checks", m.checks},
        {"failures", m.failures},
        {"worst", nullptr},
        {"failed", json::array()}}}};
}

// The README's formula, one case at a time.
double performance(double pct) { return pct >= 75 ? 40 : 40 * pct / 75; }
double efficiency(double roofline, double step) {
  return roofline >= step ? 25 : 25 * roofline / step;
}
double correctness(int64_t checks, int64_t failures) {
  return 20 * static_cast<double>(checks - failures) / static_cast<double>(checks);
}
double stability(int reps, double cv, double p50, double p99) {
  if (reps < 2) return 0;
  double points = 0;
  if (cv <= 0.01)
    points = 15;
  else if (cv < 0.05)
    points = 15 * (0.05 - cv) / 0.04;
  return p99 > 2 * p50 ? points / 2 : points;
}
char grade(double total, bool failed) {
  const char g = total >= 90   ? 'A'
                 : total >= 80 ? 'B'
                 : total >= 70 ? 'C'
                 : total >= 60 ? 'D'
                               : 'F';
  return failed && g < 'D' ? 'D' : g;
}

const bb::ScorePart& part(const bb::Score& s, const std::string& name) {
  for (const auto& p : s.parts)
    if (p.name == name) return p;
  throw std::runtime_error("no part " + name);
}

std::string error_of(const json& j) {
  try {
    bb::score_report(j, "r.json");
  } catch (const brickc::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(BenchScore, RandomReportsFollowTheFormula) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 500; ++trial) {
    Measured m;
    m.pct_bandwidth = 100 * u(rng);
    m.step_us = 500 + 2000 * u(rng);
    m.roofline_us = m.step_us * 1.2 * u(rng);
    m.checks = 1 + static_cast<int64_t>(5000 * u(rng));
    m.failures = u(rng) < 0.3 ? static_cast<int64_t>(static_cast<double>(m.checks) * u(rng)) : 0;
    m.cv = 0.07 * u(rng);
    m.reps = u(rng) < 0.1 ? 1 : 2 + static_cast<int>(100 * u(rng));
    m.p50_ms = 0.5 + 2 * u(rng);
    m.p99_ms = m.p50_ms * (1 + 2 * u(rng));
    const bb::Score s = bb::score_report(report(m), "r.json");
    const double want[] = {performance(m.pct_bandwidth), efficiency(m.roofline_us, m.step_us),
                           correctness(m.checks, m.failures), stability(m.reps, m.cv, m.p50_ms, m.p99_ms)};
    ASSERT_EQ(s.parts.size(), 4u);
    double total = 0;
    for (size_t i = 0; i < 4; ++i) {
      // Parts are rounded to 0.01 points.
      EXPECT_NEAR(s.parts[i].points, want[i], 0.005 + 1e-9) << s.parts[i].name;
      total += want[i];
    }
    EXPECT_NEAR(s.total, total, 0.02);
    // A total within rounding of a grade boundary may go either way.
    const bool near_boundary = std::abs(total - std::round(total / 10) * 10) < 0.02;
    if (!near_boundary) {
      EXPECT_EQ(s.grade, grade(total, m.failures > 0)) << total;
    }
  }
}

TEST(BenchScore, BoundaryValues) {
  Measured m;
  m.cv = 0.01;
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "stability").points, 15.0);
  m.cv = 0.05;
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "stability").points, 0.0);
  m.cv = 0.03;
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "stability").points, 7.5);
  m.p99_ms = 2 * m.p50_ms;  // p99 at exactly 2 x p50 is still stable
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "stability").points, 7.5);
  m.p99_ms = 2.01 * m.p50_ms;
  const bb::Score halved = bb::score_report(report(m), "r");
  EXPECT_EQ(part(halved, "stability").points, 3.75);
  EXPECT_NE(part(halved, "stability").note.find("halved"), std::string::npos);
  m.reps = 1;  // one repetition has no spread to judge
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "stability").points, 0.0);
  m.reps = 5;

  m.pct_bandwidth = 75;
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "performance").points, 40.0);
  m.pct_bandwidth = 90;
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "performance").points, 40.0);
  m.roofline_us = 2 * m.step_us;
  EXPECT_EQ(part(bb::score_report(report(m), "r"), "efficiency").points, 25.0);
}

TEST(BenchScore, FailedChecksCapTheGradeAtD) {
  Measured m{.pct_bandwidth = 80,
             .roofline_us = 1000,
             .step_us = 1000,
             .checks = 2300,
             .failures = 0,
             .cv = 0.005,
             .p50_ms = 1.3,
             .p99_ms = 1.35};
  const bb::Score clean = bb::score_report(report(m), "r");
  EXPECT_EQ(clean.total, 100.0);
  EXPECT_EQ(clean.grade, 'A');
  EXPECT_TRUE(clean.grade_note.empty());

  m.failures = 1;
  json j = report(m);
  j["verify"]["worst"] = {
      {"brick", 7},     {"kind", "matvec_add"}, {"value", "h.3"},     {"layer", 3},
      {"pos", 4},       {"max_abs", nullptr},   {"max_rel", nullptr}, {"tolerance", 0.03},
      {"finite", false}};
  const bb::Score failed = bb::score_report(j, "r");
  EXPECT_GT(failed.total, 99.0);
  EXPECT_EQ(failed.grade, 'D');
  EXPECT_NE(failed.grade_note.find("capped at D: 1 reference check failed"), std::string::npos);
  const std::string& note = part(failed, "correctness").note;
  EXPECT_NE(note.find("1 of 2300 checks failed"), std::string::npos) << note;
  EXPECT_NE(note.find("matvec_add %h.3 (layer 3, pos 4): not finite"), std::string::npos) << note;

  m.pct_bandwidth = 10;  // a grade below D stays
  m.roofline_us = 100;
  m.cv = 0.06;
  EXPECT_EQ(bb::score_report(report(m), "r").grade, 'F');
}

TEST(BenchScore, MissingSectionsScoreZeroWithANote) {
  json j = report(Measured{});
  j.erase("roofline");
  j.erase("verify");
  j["profile"] = nullptr;  // null counts as absent
  const bb::Score s = bb::score_report(j, "r");
  EXPECT_EQ(part(s, "performance").points, 0.0);
  EXPECT_NE(part(s, "performance").note.find("predates"), std::string::npos);
  EXPECT_EQ(part(s, "efficiency").points, 0.0);
  EXPECT_NE(part(s, "efficiency").note.find("--profile"), std::string::npos);
  EXPECT_EQ(part(s, "correctness").points, 0.0);
  EXPECT_NE(part(s, "correctness").note.find("--verify"), std::string::npos);
  EXPECT_EQ(s.total, part(s, "stability").points);
}

TEST(BenchScore, ErrorsNameTheField) {
  json j = report(Measured{});
  j["decode"].erase("median");
  EXPECT_EQ(error_of(j), "r.json: field decode.median is missing (expected a number)");
  j = report(Measured{});
  j["decode"]["cv"] = "low";
  EXPECT_EQ(error_of(j), "r.json: field decode.cv: expected a non-negative number, found \"low\"");
  j = report(Measured{});
  j["schema"] = "brickc-bench/2";
  EXPECT_EQ(error_of(j), "r.json: field schema is 'brickc-bench/2', expected 'brickc-bench/1'");
  j = report(Measured{});
  j["verify"]["failures"] = 2000;
  j["verify"]["checks"] = 1000;
  EXPECT_EQ(error_of(j), "r.json: field verify.failures: 2000 failures of 1000 checks");
  j = report(Measured{});
  j["profile"] = 3;
  EXPECT_EQ(error_of(j), "r.json: field profile: expected an object, found number");
  EXPECT_EQ(error_of(json::array()),
            "r.json: expected a JSON object (a brickc bench --json report), found array");
}

TEST(BenchScore, FilesAndPrintouts) {
  const std::string path = brickc::testing::temp_path("report.json");
  EXPECT_THROW(bb::score_file(path), brickc::Error);  // not written yet
  std::ofstream(path) << "{\"schema\": ";
  try {
    bb::score_file(path);
    ADD_FAILURE() << "no error for a truncated file";
  } catch (const brickc::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": not JSON", 0), 0u) << e.what();
  }
  std::ofstream(path) << report(Measured{}).dump();
  const bb::Score s = bb::score_file(path);
  const nlohmann::ordered_json j = bb::score_json(s);
  EXPECT_EQ(j["report"], path);
  EXPECT_EQ(j["grade"], std::string(1, s.grade));
  EXPECT_EQ(j["total"], s.total);
  const std::string text = bb::format_score(s);
  for (const auto& p : s.parts) {
    EXPECT_EQ(j["parts"][p.name]["points"], p.points);
    EXPECT_NE(text.find(p.name), std::string::npos);
  }
  std::remove(path.c_str());
}

}  // namespace
