#include "tools/brickc/bench_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

#include "ir/cost.h"
#include "runtime/bench/profile_json.h"

namespace brickc::tools {
namespace {

using json = nlohmann::ordered_json;

std::string bytes_str(uint64_t b) {
  const double d = static_cast<double>(b);
  if (b >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", d / (1 << 30));
  if (b >= (uint64_t{1} << 20)) return fmt::format("{:.2f} MiB", d / (1 << 20));
  return fmt::format("{:.2f} KiB", d / (1 << 10));
}

// llama-bench's style: "1.54 B", "494.03 M".
std::string count_str(int64_t n) {
  const double d = static_cast<double>(n);
  if (n >= 1'000'000'000) return fmt::format("{:.2f} B", d / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.2f} M", d / 1e6);
  return fmt::format("{:.2f} K", d / 1e3);
}

std::string types_str(const std::map<std::string, int>& types) {
  std::string s;
  for (const auto& [name, count] : types) s += fmt::format("{}{} x {}", s.empty() ? "" : ", ", name, count);
  return s;
}

// Markdown table; columns after the first two are right-aligned (numbers).
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], row[c].size());
  auto line = [&](const std::vector<std::string>& row) {
    std::string s = "|";
    for (size_t c = 0; c < row.size(); ++c)
      s += c < 2 ? fmt::format(" {:<{}} |", row[c], w[c]) : fmt::format(" {:>{}} |", row[c], w[c]);
    return s + "\n";
  };
  std::string s = line(rows[0]);
  s += "|";
  for (size_t c = 0; c < w.size(); ++c)
    s += c < 2 ? fmt::format(" {:-<{}} |", "", w[c]) : fmt::format(" {:->{}}: |", "", w[c] - 1);
  s += "\n";
  for (size_t i = 1; i < rows.size(); ++i) s += line(rows[i]);
  return s;
}

// Decode's median rate times the bytes a step moves.
double achieved_gbs(const BenchReport& r) {
  return r.result.decode.median * static_cast<double>(r.roofline.decode_bytes_per_token) / 1e9;
}

std::string rate(double mean, double stddev) { return fmt::format("{:.2f} ± {:.2f}", mean, stddev); }
std::string percent(double cv) { return fmt::format("{:.2f} %", cv * 100); }

json summary_json(const bench::Summary& s) {
  return {{"n", s.n},           {"median", s.median}, {"mean", s.mean}, {"stddev", s.stddev},
          {"cv", s.cv},         {"min", s.min},       {"max", s.max},   {"p50", s.p50},
          {"p99", s.p99}};
}

json summary_json(const bench::Summary& s, const std::vector<double>& values) {
  json j = summary_json(s);
  j["values"] = values;
  return j;
}

json llama_test_json(const bench::LlamaBenchTest& t) {
  return {{"n_prompt", t.n_prompt},
          {"n_gen", t.n_gen},
          {"avg_ts", t.avg_ts},
          {"stddev_ts", t.stddev_ts},
          {"samples_ts", t.samples_ts}};
}

uint64_t model_plus_kv(const BenchReport& r) {
  return r.model.file_bytes + r.memory.kv_cache_bytes;
}

json brick_result_json(const runtime::BrickResult& b) {
  return {{"brick", b.brick},     {"kind", b.kind},       {"value", b.value},
          {"layer", b.layer},     {"pos", b.pos},         {"max_abs", b.max_abs},
          {"max_rel", b.max_rel}, {"tolerance", b.tolerance}, {"finite", b.finite}};
}

json verify_json(const runtime::VerifyStats& v) {
  json failed = json::array();
  for (const auto& f : v.failed) failed.push_back(brick_result_json(f));
  return {{"steps", v.steps},
          {"checks", v.checks},
          {"failures", v.failures},
          {"worst", v.worst ? brick_result_json(*v.worst) : json(nullptr)},
          {"failed", failed}};
}


}  // namespace

std::string format_report(const BenchReport& r) {
  const auto& s = r.result.settings;
  const auto& res = r.result;
  std::string out = fmt::format(
      "model: {}; {}, {} layers, n_embd {}, {} params\n"
      "file: {}, {}; tensors: {}\n"
      "device: {}; context {}; {} repetitions after {} warm-up; micro-batch {}{}\n\n",
      r.model.name, r.model.arch, r.model.n_layer, r.model.n_embd, count_str(r.model.n_params),
      r.model.path, bytes_str(r.model.file_bytes), types_str(r.model.tensor_types),
      r.device.label, r.n_ctx, s.reps, s.warmup, r.n_ubatch,
      s.depth > 0 ? fmt::format("; depth {} (filled before each test, untimed)", s.depth) : "");
  if (r.device.gpu) {
    const auto& g = *r.device.gpu;
    out.insert(out.size() - 1,
               fmt::format("GPU: {}, sm_{}{}, {} SMs, {}, max clocks: SM {} MHz, memory {} MHz x "
                           "{} bits\n",
                           g.name, g.cc_major, g.cc_minor, g.sm_count, bytes_str(g.total_mem),
                           g.clock_khz / 1000, g.mem_clock_khz / 1000, g.mem_bus_width));
  }

  // llama-bench's test names: "pp512", "tg128 @ d4096".
  const std::string at = s.depth > 0 ? fmt::format(" @ d{}", s.depth) : "";
  const std::string pp = fmt::format("pp{}{}", s.n_prompt, at);
  const std::string tg = fmt::format("tg{}{}", s.n_gen, at);
  const std::string brickc = "brickc " + r.device.label;
  std::vector<std::vector<std::string>> rows = {{"backend", "test", "t/s", "median", "CV"}};
  if (r.llama) rows[0].push_back("brickc / llama.cpp");
  auto brickc_row = [&](const std::string& test, const bench::Summary& m, double llama_avg) {
    std::vector<std::string> row = {brickc, test, rate(m.mean, m.stddev),
                                    fmt::format("{:.2f}", m.median), percent(m.cv)};
    if (r.llama) row.push_back(fmt::format("{:.2f}x", m.mean / llama_avg));
    rows.push_back(std::move(row));
  };
  auto llama_row = [&](const std::string& test, const bench::LlamaBenchTest& t) {
    // With brickc on the CPU, llama-bench ran with -ngl 0: its build's GPU backend (which
    // it reports) did no work.
    const std::string backend =
        r.device.kind == "cpu"
            ? "llama.cpp CPU"
            : "llama.cpp" + (r.llama->backends.empty() ? "" : " " + r.llama->backends);
    const std::string median =
        t.samples_ts.empty() ? "-" : fmt::format("{:.2f}", bench::summarize(t.samples_ts).median);
    const double cv = t.avg_ts != 0 ? t.stddev_ts / t.avg_ts : 0;
    rows.push_back({backend, test, rate(t.avg_ts, t.stddev_ts), median, percent(cv), ""});
  };
  brickc_row(pp, res.prefill, r.llama ? r.llama->pp.avg_ts : 0);
  if (r.llama) llama_row(pp, r.llama->pp);
  brickc_row(tg, res.decode, r.llama ? r.llama->tg.avg_ts : 0);
  if (r.llama) llama_row(tg, r.llama->tg);
  out += table(rows);

  out += fmt::format("\ntime to first token: median {:.2f} ms (min {:.2f}, max {:.2f}), prompt of {} "
                     "tokens{}\n",
                     res.ttft.median, res.ttft.min, res.ttft.max, s.n_prompt,
                     s.depth > 0 ? fmt::format(" after {} in the cache", s.depth) : "");
  out += fmt::format("decode latency per token: p50 {:.3f} ms, p99 {:.3f} ms ({} steps)\n",
                     res.token_latency.p50, res.token_latency.p99, res.token_latency.n);
  out += fmt::format("memory: model file {} + KV cache {} ({}, {} positions); host peak RSS {}\n",
                     bytes_str(r.model.file_bytes), bytes_str(r.memory.kv_cache_bytes),
                     r.memory.kv_cache_type, r.n_ctx, bytes_str(r.memory.host_peak_rss_bytes));
  if (r.memory.device_bytes)
    out += fmt::format("GPU memory: {}, {:.3f}x model file + KV cache (aim: at most 1.1x)\n",
                       bytes_str(*r.memory.device_bytes),
                       static_cast<double>(*r.memory.device_bytes) / model_plus_kv(r));
  if (r.llama) {
    out += fmt::format("llama.cpp: {}", r.llama->argv[0]);
    for (size_t i = 1; i < r.llama->argv.size(); ++i) out += " " + r.llama->argv[i];
    out += fmt::format(" (build {})\n", r.llama->build_commit.empty() ? "?" : r.llama->build_commit);
  }
  const BenchReport::Roofline& rf = r.roofline;
  out += fmt::format(
      "roofline: {} per token at {:.0f} GB/s ({}) = {:.0f} tok/s; decode moves {:.0f} GB/s, "
      "{:.1f} % of the {:.0f} GB/s {}\n",
      ir::format_bytes(rf.decode_bytes_per_token), rf.bandwidth_gbs, rf.profile,
      rf.bandwidth_gbs * 1e9 / static_cast<double>(rf.decode_bytes_per_token), achieved_gbs(r),
      100 * achieved_gbs(r) / rf.datasheet_gbs, rf.datasheet_gbs,
      rf.reference == "assumed" ? "the profile assumes (--bandwidth-gbs gives a measured figure)"
                                : rf.reference);
  if (r.verify) out += runtime::format_verify(*r.verify);
  if (r.stat_check) {
    out += r.stat_check->empty() ? "stat-check: stable (CV <= 5 %, p99 <= 2 x p50)\n"
                                 : "stat-check: UNSTABLE measurement\n";
    for (const std::string& p : *r.stat_check) out += "  " + p + "\n";
  }
  return out;
}

json report_json(const BenchReport& r) {
  const auto& s = r.result.settings;
  const auto& res = r.result;
  json model = {{"path", r.model.path},         {"file_bytes", r.model.file_bytes},
                {"name", r.model.name},         {"arch", r.model.arch},
                {"n_layer", r.model.n_layer},   {"n_embd", r.model.n_embd},
                {"n_params", r.model.n_params}, {"tensor_types", r.model.tensor_types}};
  json device = {{"kind", r.device.kind}, {"label", r.device.label}};
  if (r.device.kind == "cpu") {
    device["threads"] = r.device.threads;
    device["cpu_name"] = r.device.cpu_name;
  }
  if (r.device.gpu) {
    const auto& g = *r.device.gpu;
    device["ordinal"] = g.ordinal;
    device["name"] = g.name;
    device["sm_count"] = g.sm_count;
    device["compute_capability"] = fmt::format("{}.{}", g.cc_major, g.cc_minor);
    device["total_mem_bytes"] = g.total_mem;
    // Peak clocks as the driver reports them (CU_DEVICE_ATTRIBUTE_*CLOCK_RATE), not the
    // clocks during the run.
    device["sm_clock_max_khz"] = g.clock_khz;
    device["mem_clock_max_khz"] = g.mem_clock_khz;
    device["mem_bus_width_bits"] = g.mem_bus_width;
    device["l2_bytes"] = g.l2_bytes;
    device["driver_version"] = r.device.driver_version;
    device["nvrtc_version"] = fmt::format("{}.{}", r.device.nvrtc_major, r.device.nvrtc_minor);
  }
  json memory = {{"device_bytes", nullptr},
                 {"model_file_bytes", r.model.file_bytes},
                 {"kv_cache_bytes", r.memory.kv_cache_bytes},
                 {"kv_cache_type", r.memory.kv_cache_type},
                 {"ratio", nullptr},
                 {"host_peak_rss_bytes", r.memory.host_peak_rss_bytes}};
  if (r.memory.device_bytes) {
    memory["device_bytes"] = *r.memory.device_bytes;
    memory["ratio"] = static_cast<double>(*r.memory.device_bytes) / model_plus_kv(r);
  }
  json llama = nullptr, ratio = nullptr;
  if (r.llama) {
    const auto& l = *r.llama;
    llama = {{"binary", l.binary},       {"argv", l.argv},
             {"build_commit", l.build_commit}, {"backends", l.backends},
             {"gpu_info", l.gpu_info},   {"cpu_info", l.cpu_info},
             {"model_type", l.model_type}, {"pp", llama_test_json(l.pp)},
             {"tg", llama_test_json(l.tg)}, {"raw", l.raw}};
    ratio = {{"pp", res.prefill.mean / l.pp.avg_ts}, {"tg", res.decode.mean / l.tg.avg_ts}};
  }
  const auto& rf = r.roofline;
  const json roofline = {
      {"profile", rf.profile},
      {"bandwidth_gbs", rf.bandwidth_gbs},
      {"datasheet_gbs", rf.datasheet_gbs},
      {"reference", rf.reference},
      {"decode_bytes_per_token", rf.decode_bytes_per_token},
      {"decode_roofline_tok_s", rf.bandwidth_gbs * 1e9 / static_cast<double>(rf.decode_bytes_per_token)},
      {"achieved_gbs", achieved_gbs(r)},
      {"pct_bandwidth", 100 * achieved_gbs(r) / rf.datasheet_gbs}};
  return {{"schema", "brickc-bench/1"},
          {"brickc_commit", r.commit},
          {"timestamp", r.timestamp},
          {"model", model},
          {"device", device},
          {"settings",
           {{"n_prompt", s.n_prompt}, {"n_gen", s.n_gen}, {"depth", s.depth}, {"reps", s.reps},
            {"warmup", s.warmup}, {"n_ctx", r.n_ctx}, {"n_ubatch", r.n_ubatch}}},
          {"prefill", summary_json(res.prefill, res.prefill_tps)},
          {"decode", summary_json(res.decode, res.decode_tps)},
          {"ttft_ms", summary_json(res.ttft, res.ttft_ms)},
          {"token_latency_ms", summary_json(res.token_latency, res.token_ms)},
          {"memory", memory},
          {"roofline", roofline},
          {"profile", r.profile ? bench::profile_to_json(*r.profile) : json(nullptr)},
          {"verify", r.verify ? verify_json(*r.verify) : json(nullptr)},
          {"llama_bench", llama},
          {"ratio", ratio},
          {"stat_check", r.stat_check ? json{{"stable", r.stat_check->empty()},
                                             {"problems", *r.stat_check}}
                                      : json(nullptr)}};
}

}  // namespace brickc::tools
