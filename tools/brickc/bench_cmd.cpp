// `brickc bench`: prefill and decode speed of a model on the device, measured as
// llama-bench measures (pp/tg tests, repetitions, tok/s mean ± stddev), with time to first
// token, per-token latency percentiles and memory; optionally llama.cpp's llama-bench on the
// same file in the same table, and the whole result as JSON for bench/results.
#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "brickc_commit.h"
#include "codegen/ptx/lower.h"
#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "ir/cost.h"
#include "passes/device_profile.h"
#include "runtime/bench/block_trace.h"
#include "runtime/bench/brick_profile.h"
#include "runtime/bench/llama_bench.h"
#include "runtime/bench/profile_svg.h"
#include "runtime/bench/protocol.h"
#include "runtime/cpu/cores.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/model.h"
#include "runtime/decode_graph.h"
#include "runtime/verify.h"
#include "tools/brickc/backend.h"
#include "tools/brickc/bench_report.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"
#include "tools/brickc/output_file.h"

namespace brickc::tools {
namespace {

// Fixed so that every run (and llama.cpp's, which also uses random ids) sees the same
// kind of prompt; speed does not depend on the ids.
constexpr uint32_t kPromptSeed = 1234;

struct BenchOptions {
  std::string model;
  bench::BenchSettings settings;
  std::string device = "auto";
  std::string engine = "auto";
  int threads = 1;
  // 0: max(depth + n_prompt + n_gen, 512), at most the model's context_length.
  int64_t n_ctx = 0;
  int64_t n_ubatch = 512;
  runtime::CacheTypes cache;
  std::string json;
  std::string llama_bench;
  std::string plot;
  std::string trace_blocks;  // --trace-blocks: the last profiled step's stamps, block by block
  bool profile = false;
  bool stat_check = false;
  bool verify = false;
  double budget_factor = 0;  // --budget-check[=factor]; 0: off
  std::optional<double> bandwidth_gbs;  // replaces the device profile's
};

// --budget-check, --plot and --trace-blocks need the bricks' times.
bool profiling(const BenchOptions& o) {
  return o.profile || o.budget_factor > 0 || !o.plot.empty() || !o.trace_blocks.empty();
}

// The tg test's steps (and --profile's) attend depth + 1 .. depth + n_gen positions: the
// roofline and the bricks' bytes and budgets are a step's at their mean, so that at depth
// attention counts the cache it reads (at 16,384 positions, 0.94 GB of a 7B's 5.3 GB).
int64_t mean_kv_len(const bench::BenchSettings& s) { return int64_t{s.depth} + (s.n_gen + 1) / 2; }

// --profile: n_gen decode steps from a cache filled with the bench's context (as its tg
// test), every brick timed in each; the report holds them against the budgets of the
// device profile the graph was optimized for.
// `costed`: the decoder's graph at the steps' cache length (bench::costed_at).
// `last`: where the last step's stamps go, block by block (--trace-blocks), or null.
bench::ProfileReport profile_bricks(runtime::Decoder& d, const ir::Graph& costed, int n_steps,
                                    std::span<const int32_t> context, double bandwidth_gbs,
                                    std::vector<bench::LaunchStamps>* last) {
  bench::BrickProfiler prof(costed);
  bench::greedy_steps(
      d, 0, n_steps,
      [&] {
        const runtime::Decoder::BrickTimes t = d.last_brick_times();
        prof.add_step(t.us, t.sm_busy, t.phases);
      },
      context);
  if (last) *last = d.last_launch_stamps();  // the trace still holds the last step's
  d.reset();
  bench::ProfileReport r = prof.report(bandwidth_gbs);
  r.depth = static_cast<int>(context.size());
  return r;
}

// --verify: n_gen decode steps from a cache filled with the bench's context (the fill
// itself unchecked), every brick checked against the CPU reference; failures are counted
// here and stop the line after the report is printed.
runtime::VerifyStats verify_bricks(runtime::Decoder& d, const gguf::File& file, int n_steps,
                                   std::span<const int32_t> context, int threads) {
  runtime::Verifier v(file, threads);
  v.set_stop_on_failure(false);
  bench::greedy_steps(d, 0, n_steps, {}, context, [&] { v.attach(d); });
  runtime::Verifier::detach(d);
  d.reset();
  return v.stats();
}

BenchReport::Roofline roofline(const gguf::File& file, int64_t n_ctx, int64_t kv_len,
                               runtime::CacheTypes cache, const std::string& profile,
                               std::optional<double> bandwidth_gbs) {
  const passes::DeviceProfile dp = passes::device_profile(profile, bandwidth_gbs);
  BenchReport::Roofline r;
  r.profile = profile;
  r.bandwidth_gbs = dp.bandwidth_gbs;
  r.datasheet_gbs = bandwidth_gbs ? *bandwidth_gbs : dp.datasheet_gbs;
  r.reference = bandwidth_gbs ? "given" : dp.assumed ? "assumed" : "datasheet";
  ir::Graph g = runtime::decode_graph(file, n_ctx, std::nullopt, profile, {}, cache);
  g.kv_len = kv_len;  // costs only: the budgets are not read here
  r.decode_bytes_per_token = ir::total_cost(g).bytes();
  return r;
}

int64_t bench_context(const BenchOptions& o, const qwen2::Config& cfg) {
  const bench::BenchSettings& s = o.settings;
  const int64_t need = int64_t{s.depth} + s.n_prompt + s.n_gen;
  const int64_t train = cfg.n_ctx_train;
  if (o.n_ctx > train) fail("-c {} exceeds the model's context_length {}", o.n_ctx, train);
  const int64_t n_ctx = o.n_ctx > 0 ? o.n_ctx : std::min<int64_t>(std::max<int64_t>(need, 512), train);
  if (need > n_ctx)
    fail("{}-p {} + -n {} = {} positions exceed the context length {}{}",
         s.depth > 0 ? fmt::format("-d {} + ", s.depth) : "", s.n_prompt, s.n_gen, need, n_ctx,
         o.n_ctx > 0 ? " (-c)" : " (the model's context_length)");
  return n_ctx;
}

BenchReport::Model describe_model(const gguf::File& f, const qwen2::Config& cfg) {
  BenchReport::Model m;
  m.path = f.path();
  m.file_bytes = f.total_bytes();
  const std::string path = f.path();
  m.name = f.find_str("general.name").value_or(path.substr(path.find_last_of('/') + 1));
  m.arch = f.get_str("general.architecture");
  m.n_layer = cfg.n_layer;
  m.n_embd = cfg.n_embd;
  for (const auto& t : f.tensors()) {
    m.n_params += t.n_elements();
    ++m.tensor_types[std::string(name(t.type))];
  }
  return m;
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  return "";
}

uint64_t host_peak_rss() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void run(const BenchOptions& o) {
  // A bad --llama-bench path fails now, not after the whole benchmark.
  if (!o.llama_bench.empty()) bench::find_llama_bench(o.llama_bench);
  if (!o.json.empty()) check_writable(o.json, "--json");
  if (!o.plot.empty()) check_writable(o.plot, "--plot");
  if (!o.trace_blocks.empty()) check_writable(o.trace_blocks, "--trace-blocks");
  const auto file = gguf::File::open(o.model);
  const qwen2::Config cfg = qwen2::read_config(*file);

  BenchReport r;
  std::optional<std::string> violation;  // --budget-check's verdict
  r.commit = BRICKC_COMMIT;
  r.timestamp = utc_now();
  r.model = describe_model(*file, cfg);
  {
    BackendOptions bo;
    bo.device = o.device;
    bo.threads = o.threads;
    bo.engine = o.engine;
    bo.n_ctx = bench_context(o, cfg);
    bo.n_ubatch = o.n_ubatch;
    bo.cache = o.cache;
    Backend backend = open_backend(*file, bo);
    runtime::Decoder& d = *backend.decoder;
    r.n_ctx = d.n_ctx();
    r.n_ubatch = o.n_ubatch;
    r.roofline = roofline(*file, r.n_ctx, mean_kv_len(o.settings), bo.cache,
                          backend.device == "cuda" ? cuda::budget_profile(backend.label) : "cpu",
                          o.bandwidth_gbs);
    r.result = bench::run_bench(d, o.settings, static_cast<int32_t>(cfg.n_vocab), kPromptSeed);

    r.device.kind = backend.device;
    r.device.label = backend.label;
    if (!o.trace_blocks.empty() && r.device.kind != "cuda")
      fail("--trace-blocks: the {} backend stamps no blocks (the GPU's kernels do)", r.device.kind);
    const bool gpu = backend.device == "cuda";
    if (gpu) {
      const auto& p = cuda::probe();
      if (!p.devices.empty()) r.device.gpu = p.devices.front();
      r.device.driver_version = p.driver_version;
      r.device.nvrtc_major = p.nvrtc_major;
      r.device.nvrtc_minor = p.nvrtc_minor;
      if (const auto* m = dynamic_cast<const cuda::Model*>(&d)) r.memory.device_bytes = m->device_bytes();
    } else {
      r.device.threads = o.threads;
      r.device.cpu_name = cpu_name();
    }
    // K and V, every layer, every position: as the GPU lays a position out (a q8_0 one padded
    // to 16 bytes), or as the CPU's blocks.
    r.memory.kv_cache_type = backend.kv_k == backend.kv_v
                                 ? std::string(name(backend.kv_k))
                                 : fmt::format("k {}, v {}", name(backend.kv_k), name(backend.kv_v));
    const auto positions = static_cast<int64_t>(cfg.n_layer) * r.n_ctx;
    auto bytes = [&](DType t) {
      return gpu ? static_cast<uint64_t>(positions) * ptx::gpu_cache_position_bytes(t, cfg.kv_dim())
                 : ir::vec(t, positions * cfg.kv_dim()).bytes();
    };
    r.memory.kv_cache_bytes = bytes(backend.kv_k) + bytes(backend.kv_v);
  }
  if (profiling(o) || o.verify) {
    // A second model on the same device: the rates above come from the kernels users run,
    // without timing hooks, the bricks' times and checks from one that times them (on the
    // CPU the same engine, which runs its bricks one at a time anyway).
    BackendOptions bo;
    bo.device = r.device.kind;
    bo.threads = o.threads;
    bo.engine = o.engine;
    bo.n_ctx = r.n_ctx;
    bo.n_ubatch = o.n_ubatch;
    bo.cache = o.cache;
    bo.profile = profiling(o);
    bo.brick_steps = o.verify;
    Backend backend = open_backend(*file, bo);
    runtime::Decoder& d = *backend.decoder;
    const std::vector<int32_t> context =
        bench::bench_tokens(o.settings, static_cast<int32_t>(cfg.n_vocab), kPromptSeed).context;
    if (profiling(o)) {
      if (!d.profiled_graph()) fail("internal: the backend does not time its bricks");
      const ir::Graph costed = bench::costed_at(*d.profiled_graph(), mean_kv_len(o.settings),
                                                r.roofline.profile, o.bandwidth_gbs);
      std::vector<bench::LaunchStamps> stamps;
      r.profile = profile_bricks(d, costed, o.settings.n_gen, context, r.roofline.bandwidth_gbs,
                                 o.trace_blocks.empty() ? nullptr : &stamps);
      if (!o.trace_blocks.empty())
        write_file(o.trace_blocks, "--trace-blocks", bench::block_trace_json(*d.profiled_graph(), stamps));
      if (o.budget_factor > 0) {
        std::vector<double> p50;
        for (const bench::BrickRow& row : r.profile->rows) p50.push_back(row.us.p50);
        violation = bench::budget_violation(costed, p50, o.budget_factor);
      }
    }
    if (o.verify) r.verify = verify_bricks(d, *file, o.settings.n_gen, context, o.threads);
  }  // the models are released: llama-bench gets the device to itself
  r.memory.host_peak_rss_bytes = host_peak_rss();

  if (!o.llama_bench.empty()) {
    bench::LlamaBenchRequest q;
    q.binary = o.llama_bench;
    q.model = o.model;
    q.n_prompt = o.settings.n_prompt;
    q.n_gen = o.settings.n_gen;
    q.reps = o.settings.reps;
    q.n_ubatch = static_cast<int>(o.n_ubatch);
    q.n_depth = o.settings.depth;
    // The same device as brickc's: all layers on the GPU, or the CPU with as many threads.
    q.n_gpu_layers = r.device.kind == "cuda" ? 99 : 0;
    if (r.device.kind == "cpu") q.threads = o.threads;
    q.cache_k = name(o.cache.k);
    q.cache_v = name(o.cache.v);
    r.llama = bench::run_llama_bench(q);
  }

  if (o.stat_check) r.stat_check = bench::stability_problems(r.result);
  fmt::print("{}{}", format_report(r), r.profile ? bench::format_profile(*r.profile) : "");
  std::fflush(stdout);  // the report stands before a Jidoka error
  if (!o.json.empty()) write_file(o.json, "--json", report_json(r).dump(2) + "\n");
  if (!o.plot.empty())
    write_file(o.plot, "--plot",
               bench::profile_svg(*r.profile, fmt::format("{} on {}", r.model.name, r.device.label)));
  if (violation) fail("budget check: {}", *violation);
  if (r.verify && r.verify->failures > 0)
    fail("verify: {} of {} brick checks failed; first: {}", r.verify->failures, r.verify->checks,
         runtime::describe(r.verify->failed.front()));
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bench",
      "Measure prefill and decode speed (llama-bench's pp/tg tests), time to first token, "
      "per-token latency and memory; optionally run llama.cpp's llama-bench alongside");
  auto o = std::make_shared<BenchOptions>();
  o->threads = cpu::physical_cores();
  auto& s = o->settings;
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-p,--n-prompt", s.n_prompt, "Prompt tokens per prefill test (random ids)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", s.n_gen, "Greedy decode steps per test")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("-d,--depth", s.depth,
                  "Positions filled with random tokens, untimed, before each prefill and decode "
                  "test (llama-bench's -d): the speed at that context length")
      ->check(CLI::Range(0, 1 << 24))
      ->capture_default_str();
  cmd->add_option("--ubatch-size", o->n_ubatch,
                  "-ub: prompt tokens evaluated together in one step (llama.cpp's micro-batch)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("-r,--reps", s.reps, "Measured repetitions")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--warmup", s.warmup, "Repetitions run first and discarded")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  add_device_flags(cmd, o->device, o->threads, o->engine);
  add_cache_flags(cmd, o->cache);
  cmd->add_option("-c,--ctx-size", o->n_ctx,
                  "Context length (default: max(-d + -p + -n, 512), at most the model's "
                  "context_length)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--bandwidth-gbs", o->bandwidth_gbs,
                  "Memory bandwidth (GB/s) of the roofline and the brick budgets instead of the "
                  "device profile's; the CPU profile's 20 GB/s is an assumption, so give a "
                  "measured figure there")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--stat-check", o->stat_check,
               "Flag an unstable measurement: CV of a rate above 5 % or per-token p99 above 2 x p50");
  cmd->add_option("--budget-check", o->budget_factor,
                  "Stop with an error when a brick's p50 exceeds its budget (times the "
                  "factor given, e.g. --budget-check=2); implies --profile")
      ->expected(0, 1)
      ->default_str("1")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--profile", o->profile,
               "Time every brick of n_gen more decode steps (GPU: inside the kernels; CPU: a "
               "steady clock around each brick) and print where a step's time goes against "
               "the budgets");
  cmd->add_flag("--verify", o->verify,
                "Check every brick of n_gen more decode steps against the CPU reference brick "
                "on the same inputs; a failed check is reported and stops with an error");
  cmd->add_option("--plot", o->plot,
                  "Write an SVG chart of each brick kind's time against its budget; implies "
                  "--profile");
  cmd->add_option("--trace-blocks", o->trace_blocks,
                  "Write the last profiled step's trace stamps block by block as JSON (schema "
                  "brickc-trace-blocks/1: per launch, each block's entry, start, prologue end, end "
                  "and SM; GPU only); implies --profile");
  cmd->add_option("--json", o->json, "Write the results as JSON (schema brickc-bench/1)");
  cmd->add_option("--llama-bench", o->llama_bench,
                  "Path of llama.cpp's llama-bench: run it on the same file and settings and "
                  "add its rows and the brickc / llama.cpp ratio to the table");
  cmd->callback([o] { run(*o); });
}

}  // namespace brickc::tools
