// `brickc compile FILE.brick|- | -m MODEL.gguf --emit=ir|ir-opt|cuda|ptx [--passes=a,b]`:
// read Brick IR text (or import a Qwen2 GGUF), verify it, run passes, print it or the
// kernels generated from it. Diagnostics go to
// stderr as `file:line:col: error: ...`, one per problem, exit code 1.
#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "codegen/ptx/lower.h"
#include "codegen/ptx/megakernel.h"
#include "codegen/ptx/nvrtc.h"
#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/device_profile.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "runtime/bench/annotate.h"
#include "runtime/bench/profile_json.h"
#include "runtime/bench/report_fields.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"

namespace brickc::tools {
namespace {

struct Chunk {
  std::string text;
  int first_line;
};

constexpr std::string_view kSplitMarker = "// -----";

// Cuts at lines that are exactly the marker (spaces aside), keeping line numbers of the
// whole file so that diagnostics point into it.
std::vector<Chunk> split(const std::string& text) {
  std::vector<Chunk> chunks{{{}, 1}};
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto b = line.find_first_not_of(" \t\r");
    auto e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos && std::string_view(line).substr(b, e - b + 1) == kSplitMarker) {
      chunks.push_back({{}, n + 1});
      continue;
    }
    chunks.back().text += line + '\n';
  }
  return chunks;
}

std::string read_input(const std::string& path) {
  std::ostringstream s;
  if (path == "-") {
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open {}", path);
  s << f.rdbuf();
  if (f.bad()) fail("cannot read {}", path);
  return s.str();
}

struct CompileOptions {
  std::string input;
  std::string model;
  std::string emit = "ir";
  std::string arch = "sm_90";
  std::string passes;
  bool passes_given = false;
  bool split_input = false;
  bool print_after_all = false;
  std::vector<std::string> print_after;
  bool verify_each = false;
  bool time_passes = false;
  passes::PassOptions pass_opts;
  std::optional<int64_t> kv_len;
  int64_t max_ctx = 0;
  int64_t tokens = 1;       // -m: tokens per step (the token dimension)
  int64_t sequences = 1;    // -m: sequences the tokens may belong to (a batch)
  runtime::CacheTypes cache;  // -m: how the KV cache holds K and V
  bool all_logits = false;  // -m: logits for every token of the step
  bool trace = false;    // --emit=cuda|ptx: the kernels with their profiling hooks
  bool megakernel = false;  // --emit=cuda|ptx: also the persistent decode kernel
  unsigned sms = 132;       // SMs of the device (attention splits, --emit=schedule)
  std::string annotate;  // a bench report with a per-brick profile
  bool device_profile_given = false;
};

// --annotate: the report's profile, after checking that it was measured on this model file;
// `device_profile` becomes the report's (the budgets it was held against).
bench::ProfileReport measured_profile(const std::string& path, const gguf::File& model,
                                      std::string& device_profile) {
  const nlohmann::json j = bench::read_report(path);
  bench::check_report(j, path);
  const bench::ReportFields f(j, path);
  if (const uint64_t bytes = f.count("model.file_bytes"); bytes != model.total_bytes())
    fail("--annotate: {} was measured on a model file of {} bytes; {} has {}", path, bytes,
         model.path(), model.total_bytes());
  if (!f.section("profile"))
    fail("--annotate: {} has no per-brick profile: make it with brickc bench --profile --json", path);
  if (f.section("roofline")) device_profile = f.text("roofline.profile");
  return bench::profile_from_json(j["profile"], path);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// --emit=ir prints the graph as read unless --passes names some; the other stages run the
// default pipeline unless --passes replaces it.
passes::PassManager make_manager(const CompileOptions& o) {
  std::vector<const passes::PassInfo*> pipeline;
  if (o.passes_given) {
    pipeline = passes::parse_pipeline(o.passes);
  } else if (o.emit != "ir") {
    for (auto n : passes::default_pipeline()) pipeline.push_back(passes::find_pass(n));
  }
  for (const auto& n : o.print_after)
    if (!passes::find_pass(n))
      fail("--print-ir-after: unknown pass '{}' (valid passes: {})", n, passes::pass_names());
  passes::device_profile(o.pass_opts.device, o.pass_opts.bandwidth_gbs);  // fail early
  passes::PassManager pm(std::move(pipeline), o.pass_opts);
  pm.print_after_all = o.print_after_all;
  pm.print_after.insert(o.print_after.begin(), o.print_after.end());
  pm.verify_each = o.verify_each;
  pm.sink = [](std::string_view text) { fmt::print("{}", text); };
  return pm;
}

// The stage --emit asks for, from the optimized graph: IR text, the generated CUDA source,
// the megakernel's schedule, or the PTX NVRTC makes of the source.
std::string emit(const CompileOptions& o, const ir::Graph& g) {
  if (o.emit == "ir" || o.emit == "ir-opt") return ir::print(g);
  ptx::LowerOptions lo;
  lo.trace = o.trace;
  lo.megakernel = o.megakernel || o.emit == "schedule";
  lo.sms = o.sms;
  const ptx::KernelPlan plan = ptx::lower(g, lo);
  if (o.emit == "schedule") return ptx::print_schedule(g, plan, o.sms);
  if (o.emit == "cuda") return plan.source;
  ptx::CompileOptions co;
  co.arch = o.arch;
  co.want_cubin = false;
  return ptx::compile(plan.source, "brickc_" + g.name, co).ptx;
}

// Runs the passes on a verified graph and returns what --emit asks for; timing goes to stderr.
std::string optimize_and_print(const CompileOptions& o, ir::Graph& g, double import_ms) {
  auto pm = make_manager(o);
  pm.run(g);
  auto t0 = std::chrono::steady_clock::now();
  std::string text = emit(o, g);
  if (o.time_passes) {
    fmt::print(stderr, "{}", pm.timing_report());
    fmt::print(stderr, "  {:7.3f}  read and verify input\n  {:7.3f}  print\n", import_ms,
               ms_since(t0));
  }
  return text;
}

void compile_model(const CompileOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  auto file = gguf::File::open(o.model);
  qwen2::ImportOptions io;
  io.max_ctx = o.max_ctx;
  io.kv_len = o.kv_len.value_or(0);
  io.n_tokens = o.tokens;
  io.n_seq = o.sequences;
  io.all_logits = o.all_logits;
  io.cache = o.cache;
  ir::Graph g = qwen2::import_qwen2(*file, io);
  ir::verify_or_fail(g, o.model);
  const double import_ms = ms_since(t0);
  if (o.annotate.empty()) {
    fmt::print("{}", optimize_and_print(o, g, import_ms));
    return;
  }
  // The budgets the report was held against: its device profile, unless one was given.
  CompileOptions opt = o;
  const bench::ProfileReport measured =
      measured_profile(o.annotate, *file, opt.pass_opts.device);
  if (o.device_profile_given) opt.pass_opts.device = o.pass_opts.device;
  make_manager(opt).run(g);
  fmt::print("{}", bench::annotate_ir(g, measured, o.annotate));
}

void compile_text(const CompileOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  const std::string text = read_input(o.input);
  const std::string file = o.input == "-" ? "<stdin>" : o.input;
  auto chunks = o.split_input ? split(text) : std::vector<Chunk>{{text, 1}};
  bool failed = false;
  std::string out;
  for (size_t i = 0; i < chunks.size(); ++i) {
    auto parsed = ir::parse(chunks[i].text, chunks[i].first_line);
    if (parsed.ok() && o.kv_len) parsed.graph.kv_len = *o.kv_len;
    auto errors = parsed.ok() ? ir::verify(parsed.graph) : parsed.errors;
    for (const auto& d : errors) fmt::print(stderr, "{}\n", ir::format(d, file));
    if (!errors.empty()) {
      failed = true;
      continue;
    }
    if (!out.empty()) out += std::string(kSplitMarker) + "\n";
    out += optimize_and_print(o, parsed.graph, ms_since(t0));
  }
  fmt::print("{}", out);
  if (failed) throw CLI::RuntimeError(1);
}

}  // namespace

void add_compile_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("compile", "Import or parse Brick IR, run passes, print it");
  auto o = std::make_shared<CompileOptions>();
  auto* input =
      cmd->add_option("input", o->input, "Brick IR file (.brick), or - for stdin");
  auto* model = cmd->add_option("-m,--model", o->model, "Qwen2 GGUF model to import");
  input->excludes(model);
  cmd->add_option("--emit", o->emit,
                  "What to print: ir (as read or imported), ir-opt (after the default pipeline), "
                  "cuda (the generated kernel source), ptx (NVRTC's PTX of it), schedule (the "
                  "megakernel's tasks, their waits and each block's share)")
      ->check(CLI::IsMember({"ir", "ir-opt", "cuda", "ptx", "schedule"}));
  cmd->add_option("--arch", o->arch, "GPU architecture for --emit=ptx")->capture_default_str();
  cmd->add_flag("--trace", o->trace,
                "--emit=cuda|ptx: kernels with the %globaltimer stamps that profiling runs "
                "(bench --profile); without it the hooks are compiled out");
  cmd->add_flag("--megakernel", o->megakernel,
                "--emit=cuda|ptx: also the persistent decode kernel that runs every launch as a "
                "task (--engine megakernel)");
  cmd->add_option("--sms", o->sms,
                  "SMs of the device the code is for: decode attention's splits, --emit=schedule "
                  "(H100/H200 SXM: 132)")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  cmd->add_option("--passes", o->passes,
                  "Comma-separated passes to run instead of the default pipeline (" +
                      passes::pass_names() + ")");
  cmd->add_flag("--print-ir-after-all", o->print_after_all, "Print the IR after every pass");
  cmd->add_option("--print-ir-after", o->print_after, "Print the IR after the named pass(es)")
      ->delimiter(',');
  cmd->add_flag("--verify-each", o->verify_each,
                "Verify the graph after every pass (always on in debug builds)");
  cmd->add_flag("--time-passes", o->time_passes, "Report each pass's wall time on stderr");
  cmd->add_option("--device-profile", o->pass_opts.device,
                  "Device for the budget pass: " + passes::device_profile_names())
      ->default_val("h100-sxm");
  cmd->add_option("--bandwidth-gbs", o->pass_opts.bandwidth_gbs,
                  "Memory bandwidth in GB/s, replacing the profile's (e.g. a measured figure)");
  cmd->add_option("--kv-len", o->kv_len,
                  "Cached positions the costed step reads (default: --tokens for a model, "
                  "the file's kv_len for IR)");
  cmd->add_option("--tokens", o->tokens,
                  "Tokens per step for an imported model: 1 is the decode step, T > 1 the "
                  "T-token (prefill) step with [n, T] activations")
      ->capture_default_str();
  cmd->add_option("--sequences", o->sequences,
                  "Sequences a step's tokens may belong to (a server's batch): above 1 every "
                  "KV cache has a sequence dimension and %seq names each token's sequence")
      ->capture_default_str();
  cmd->add_flag("--all-logits", o->all_logits,
                "An imported model's LM head gives every token's logits (perplexity, dumped "
                "logits), not the last token's alone");
  cmd->add_option("--max-ctx", o->max_ctx,
                  "KV cache length for an imported model (default: min(context, 4096))");
  add_cache_flags(cmd, o->cache);
  cmd->add_option("--annotate", o->annotate,
                  "A bench report (brickc bench --profile --json): print the optimized IR of "
                  "-m with each brick's measured time beside its budget");
  cmd->add_flag("--split-input-file", o->split_input,
                "Treat each '// -----' separated part as its own graph");
  cmd->callback([o, cmd] {
    o->passes_given = cmd->count("--passes") > 0;
    o->device_profile_given = cmd->count("--device-profile") > 0;
    if (!o->annotate.empty()) {
      if (o->model.empty()) fail("--annotate needs the model the report measured: -m MODEL.gguf");
      if (o->emit != "ir" && o->emit != "ir-opt")
        fail("--annotate prints the optimized IR; it does not combine with --emit={}", o->emit);
      o->emit = "ir-opt";
    }
    if (o->input.empty() == o->model.empty())
      fail("compile: give either a Brick IR file (or -) or -m MODEL.gguf");
    if (!o->model.empty())
      compile_model(*o);
    else
      compile_text(*o);
  });
}

}  // namespace brickc::tools
