#include "runtime/bench/score.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ir/error.h"
#include "runtime/bench/report_fields.h"

namespace brickc::bench {
namespace {

using json = nlohmann::json;

// Full performance marks at 75 % of the datasheet bandwidth: a plain copy kernel reaches
// 85 % on the H100 (2.85 of 3.35 TB/s), and a decode step also runs small bricks that
// cannot stream at that rate.
constexpr double kFullPctBandwidth = 75.0;
// Stability: full marks at a decode CV of 1 % or less, none from 5 % (the limit of
// `bench --stat-check`), linear between.
constexpr double kCvFull = 0.01, kCvNone = 0.05;

double round2(double x) { return std::round(x * 100) / 100; }

ScorePart performance(const ReportFields& f) {
  ScorePart p{.name = "performance", .max = 40};
  p.inputs["decode_tok_s"] = f.number("decode.median");
  if (!f.section("roofline")) {
    p.note = "no roofline section: the report predates it (run brickc bench again)";
    return p;
  }
  const double pct = f.number("roofline.pct_bandwidth");
  p.inputs["pct_bandwidth"] = pct;
  p.points = p.max * std::min(1.0, pct / kFullPctBandwidth);
  if (pct < kFullPctBandwidth)
    p.note = fmt::format("full marks at {:g} % of the bandwidth", kFullPctBandwidth);
  return p;
}

ScorePart efficiency(const ReportFields& f) {
  ScorePart p{.name = "efficiency", .max = 25};
  if (!f.section("profile")) {
    p.note = "no profile section: run bench with --profile";
    return p;
  }
  const double roofline = f.number("profile.roofline_us"), step = f.number("profile.step_p50_us");
  if (step <= 0)
    fail("{}: field profile.step_p50_us: expected a positive time, found 0", f.source());
  p.inputs["roofline_us"] = roofline;
  p.inputs["step_p50_us"] = step;
  p.points = p.max * std::min(1.0, roofline / step);
  if (roofline == 0)
    p.note = "the bricks have no budgets";
  else if (roofline < step)
    p.note = "full marks when the step takes its roofline time";
  return p;
}

std::string worst_check(const ReportFields& f) {
  const int64_t layer = f.integer("verify.worst.layer");
  const std::string where = layer >= 0 ? fmt::format("layer {}", layer) : "outside the layers";
  // A NaN or Inf result has no meaningful max_rel (the writer stores null there).
  const std::string error =
      f.flag("verify.worst.finite")
          ? fmt::format("max_rel {:.3g} against tolerance {:.3g}", f.number("verify.worst.max_rel"),
                        f.number("verify.worst.tolerance"))
          : "not finite";
  return fmt::format("; worst: {} %{} ({}, pos {}): {}", f.text("verify.worst.kind"),
                     f.text("verify.worst.value"), where, f.count("verify.worst.pos"), error);
}

ScorePart correctness(const ReportFields& f, uint64_t& failures) {
  ScorePart p{.name = "correctness", .max = 20};
  const json* verify = f.section("verify");
  if (!verify) {
    p.note = "no verify section: run bench with --verify";
    return p;
  }
  const uint64_t checks = f.count("verify.checks");
  failures = f.count("verify.failures");
  if (failures > checks)
    fail("{}: field verify.failures: {} failures of {} checks", f.source(), failures, checks);
  p.inputs["checks"] = checks;
  p.inputs["failures"] = failures;
  if (checks == 0) {
    p.note = "verify ran no checks";
    return p;
  }
  p.points = p.max * static_cast<double>(checks - failures) / static_cast<double>(checks);
  if (failures > 0) {
    p.note = fmt::format("{} of {} checks failed", failures, checks);
    if (verify->contains("worst") && verify->at("worst").is_object()) p.note += worst_check(f);
  }
  return p;
}

ScorePart stability(const ReportFields& f) {
  ScorePart p{.name = "stability", .max = 15};
  const double cv = f.number("decode.cv");
  const double p50 = f.number("token_latency_ms.p50"), p99 = f.number("token_latency_ms.p99");
  p.inputs["decode_cv"] = cv;
  p.inputs["token_p50_ms"] = p50;
  p.inputs["token_p99_ms"] = p99;
  const double reps = f.number("decode.n");
  p.inputs["decode_reps"] = reps;
  if (reps < 2) {
    p.note = "one repetition has no spread: run bench with -r 2 or more";
    return p;
  }
  p.points = p.max * std::clamp((kCvNone - cv) / (kCvNone - kCvFull), 0.0, 1.0);
  if (cv > kCvFull)
    p.note = fmt::format("decode CV {:.2f} %: full marks at {:g} % or less, none from {:g} %",
                         100 * cv, 100 * kCvFull, 100 * kCvNone);
  if (p99 > 2 * p50) {
    p.points /= 2;
    p.note += fmt::format("{}token latency p99 {:.3f} ms > 2 x p50 {:.3f} ms: halved",
                          p.note.empty() ? "" : "; ", p99, p50);
  }
  return p;
}

char grade_of(double total) {
  if (total >= 90) return 'A';
  if (total >= 80) return 'B';
  if (total >= 70) return 'C';
  if (total >= 60) return 'D';
  return 'F';
}

}  // namespace

Score score_report(const json& report, const std::string& source) {
  check_report(report, source);
  const ReportFields f(report, source);
  Score s;
  s.source = source;
  uint64_t failures = 0;
  s.parts = {performance(f), efficiency(f), correctness(f, failures), stability(f)};
  // Rounded parts, so that a boundary value (CV exactly 1 %) gives its exact points and
  // the grade does not flip on the last bit.
  for (ScorePart& p : s.parts) {
    p.points = round2(p.points);
    s.total += p.points;
  }
  s.total = round2(s.total);
  s.grade = grade_of(s.total);
  if (failures > 0 && s.grade < 'D') {
    s.grade = 'D';
    s.grade_note =
        fmt::format("capped at D: {} reference check{} failed", failures, failures == 1 ? "" : "s");
  }
  return s;
}

Score score_file(const std::string& path) { return score_report(read_report(path), path); }

std::string format_score(const Score& s) {
  std::string out =
      fmt::format("score of {}: {:.2f} / 100, grade {}\n", s.source, s.total, s.grade);
  for (const ScorePart& p : s.parts) {
    std::string inputs;
    for (const auto& [name, v] : p.inputs.items())
      inputs += fmt::format("{}{} {:.4g}", inputs.empty() ? "" : ", ", name, v.get<double>());
    const std::string head = fmt::format("  {:<12} {:6.2f} / {:<3g} ", p.name, p.points, p.max);
    out += head + (inputs.empty() ? "-" : inputs) + "\n";
    if (!p.note.empty()) out += fmt::format("{:{}}{}\n", "", head.size(), p.note);
  }
  if (!s.grade_note.empty()) out += fmt::format("grade {}\n", s.grade_note);
  return out;
}

nlohmann::ordered_json score_json(const Score& s) {
  nlohmann::ordered_json parts = nlohmann::ordered_json::object();
  auto or_null = [](const std::string& t) {
    return t.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t);
  };
  for (const ScorePart& p : s.parts)
    parts[p.name] = {
        {"points", p.points}, {"max", p.max}, {"inputs", p.inputs}, {"note", or_null(p.note)}};
  return {{"report", s.source},
          {"total", s.total},
          {"max", 100},
          {"grade", std::string(1, s.grade)},
          {"grade_note", or_null(s.grade_note)},
          {"parts", parts}};
}

}  // namespace brickc::bench
