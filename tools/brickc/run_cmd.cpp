// `brickc run`: generation from a prompt. A text prompt (-p, -f, stdin or a FIM request)
// is tokenized, sampled with llama.cpp's defaults and streamed as text until an
// end-of-generation token; --prompt-tokens is the token-level interface of the reference
// tests: greedy by default, ids on stdout, no stop at end-of-generation tokens. Both print
// a one-line speed summary on stderr; --dump-logits keeps every position's logits.
#include <fmt/core.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/chat/fim.h"
#include "frontend/chat/special_tokens.h"
#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"
#include "runtime/cpu/forward.h"
#include "runtime/bench/brick_profile.h"
#include "runtime/npy.h"
#include "runtime/session.h"
#include "tools/brickc/backend.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"

namespace brickc::tools {
namespace {

struct RunOptions {
  GenerationFlags gen;
  std::string prompt;
  std::string file;
  std::string prompt_tokens;
  std::string fim_prefix, fim_suffix;
  bool no_parse_special = false;
  bool truncate = false;
  std::string dump_logits;
  std::string activations = "f32";
  double budget_factor = 0;  // --budget-check[=factor]; 0: off
  bool verify = false;
  std::optional<std::string> plant_fault;
  CLI::Option *p = nullptr, *f = nullptr, *ids = nullptr, *fim_pre = nullptr,
              *fim_suf = nullptr;
};

std::vector<int32_t> parse_token_ids(const std::string& s) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string_view item(s.data() + pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int32_t id = 0;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || id < 0)
      fail("--prompt-tokens: '{}' is not a token id (expected comma-separated integers >= 0)",
           item);
    ids.push_back(id);
    pos = end + 1;
  }
  return ids;
}

// The prompt's token ids from whichever source was given (exactly one).
std::vector<int32_t> prompt_ids(const RunOptions& o, const gguf::File& file,
                                const qwen2::Config& cfg,
                                std::optional<tokenizer::Tokenizer>& tok) {
  const bool fim = o.fim_pre->count() + o.fim_suf->count() > 0;
  const size_t sources = o.p->count() + o.f->count() + o.ids->count() + (fim ? 1 : 0);
  if (sources > 1)
    fail("give the prompt one way only: -p, -f, --prompt-tokens or --fim-prefix/--fim-suffix");
  if (o.ids->count()) {
    std::vector<int32_t> ids = parse_token_ids(o.prompt_tokens);
    for (size_t i = 0; i < ids.size(); ++i)
      if (static_cast<uint32_t>(ids[i]) >= cfg.n_vocab)
        fail("--prompt-tokens: token id {} (at index {}) is out of range: {} has {} tokens",
             ids[i], i, o.gen.model, cfg.n_vocab);
    return ids;
  }
  std::string text;
  if (o.p->count()) {
    text = o.prompt;
  } else if (o.f->count()) {
    text = read_prompt_file(o.file);
  } else if (!fim) {
    if (isatty(STDIN_FILENO))
      fail("no prompt: give -p TEXT, -f FILE, --prompt-tokens IDS or --fim-prefix/--fim-suffix, "
           "or pipe the text on stdin");
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  tok.emplace(tokenizer::Vocab::from_gguf(file));
  if (fim) {
    chat::FimRequest r;
    r.prefix = o.fim_prefix;
    r.suffix = o.fim_suffix;
    return chat::fim_prompt_tokens(*tok, chat::FimTokens::from_gguf(file, tok->vocab()), r);
  }
  return tok->encode(text, !o.no_parse_special);
}

// Error unless prompt + generation fit the context; with --truncate, drops the prompt's
// first tokens instead.
void fit_context(std::vector<int32_t>& prompt, int64_t n_predict, int64_t n_ctx, bool truncate) {
  // Without a limit, room for at least one generated token.
  const int64_t gen = n_predict >= 0 ? n_predict : 1;
  const int64_t needed = static_cast<int64_t>(prompt.size()) + gen;
  if (needed <= n_ctx) return;
  const int64_t keep = n_ctx - gen;
  const std::string gen_text =
      n_predict >= 0 ? fmt::format("{} tokens", n_predict) : "at least 1 token";
  if (!truncate || keep <= 0)
    fail(
        "prompt ({} tokens) + generation ({}) = {} tokens exceed the context length {} (-c){}",
        prompt.size(), gen_text, needed, n_ctx,
        keep > 0 ? fmt::format("; --truncate keeps the prompt's last {} tokens", keep) : "");
  fmt::print(stderr, "brickc run: prompt truncated to its last {} of {} tokens\n", keep,
             prompt.size());
  prompt.erase(prompt.begin(), prompt.end() - keep);
}

void run(RunOptions& o) {
  const auto file = gguf::File::open(o.gen.model);
  const qwen2::Config cfg = qwen2::read_config(*file);
  const int64_t n_ctx = context_length(o.gen, cfg);
  std::optional<tokenizer::Tokenizer> tok;
  std::vector<int32_t> prompt = prompt_ids(o, *file, cfg, tok);
  const bool token_mode = !tok.has_value();
  const int64_t n_predict = o.gen.n->count() ? o.gen.n_predict : token_mode ? 32 : -1;
  fit_context(prompt, n_predict, n_ctx, o.truncate);

  sampling::SamplerParams sp = sampler_params(o.gen);
  if (token_mode && !o.gen.temp->count()) sp.temp = 0.0f;
  sampling::Sampler sampler(sp);

  const auto activations =
      o.activations == "llama-cpu" ? cpu::Activations::kLlamaCpu : cpu::Activations::kF32;
  // One row per evaluated position: every prompt position, then each generated token
  // that was fed back (the last one is not evaluated): n_prompt + max(n - 1, 0) rows
  // unless an end-of-generation token or a full context stops it first.
  std::optional<NpyWriter> dump;
  if (!o.dump_logits.empty()) dump.emplace(o.dump_logits, cfg.n_vocab);
  cpu::Qwen2Model::LogitsFn each;
  if (dump) each = [&](int64_t, std::span<const float> l) { dump->append(l); };
  BackendOptions bo;
  bo.device = o.gen.device;
  bo.threads = o.gen.threads;
  bo.n_ctx = n_ctx;
  bo.n_ubatch = o.gen.n_ubatch;
  bo.task_timeout_s = o.gen.task_timeout_s;
  bo.cache = o.gen.cache;
  bo.activations = activations;
  bo.engine = o.gen.engine;
  bo.each = each;
  bo.profile = o.budget_factor > 0;
  bo.verify = o.verify;
  bo.plant_fault = o.plant_fault;
  Backend backend = open_backend(*file, bo);
  runtime::Session session(*backend.decoder, sampler);

  runtime::GenerateOptions go;
  go.n_predict = n_predict;
  std::vector<int32_t> generated;
  std::optional<tokenizer::StreamDecoder> text;
  runtime::TokenFn on_token;
  if (token_mode) {
    on_token = [&](int32_t t) { generated.push_back(t); };
  } else {
    go.eog = chat::eog_tokens(tok->vocab());
    text.emplace(*tok);
    on_token = [&](int32_t t) {
      const std::string piece = text->push(t);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    };
  }
  if (o.budget_factor > 0) {
    // Jidoka: each step's bricks against their budgets; the first one over stops the line.
    on_token = [&, show = std::move(on_token)](int32_t t) {
      runtime::Decoder& d = *backend.decoder;
      if (auto v = bench::budget_violation(*d.profiled_graph(), d.last_brick_us(), o.budget_factor))
        fail("budget check at position {}: {}", d.n_past() - 1, *v);
      show(t);
    };
  }
  const runtime::GenerateStats stats = session.generate(prompt, go, on_token);
  if (dump) dump->close();

  if (token_mode) {
    std::string line;
    for (size_t i = 0; i < generated.size(); ++i)
      line += (i ? " " : "") + std::to_string(generated[i]);
    fmt::print("{}\n", line);
  } else {
    fmt::print("{}\n", text->flush());
  }
  std::fflush(stdout);
  const std::string seed = sp.temp > 0 ? fmt::format(", seed {}", sampler.seed()) : "";
  fmt::print(stderr, "brickc run: {}{}\n", speed_summary(stats, backend.label), seed);
  if (backend.verifier) fmt::print(stderr, "brickc run: {}", runtime::format_verify(backend.verifier->stats()));
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run",
      "Generate text from a prompt (-p, -f, stdin or --fim-prefix/--fim-suffix), or token ids "
      "from --prompt-tokens");
  auto o = std::make_shared<RunOptions>();
  add_generation_flags(cmd, o->gen,
                       "Tokens to generate; -1: until an end-of-generation token or a full "
                       "context (default -1; 32 with --prompt-tokens)");
  o->p = cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  o->f = cmd->add_option("-f,--file", o->file, "File holding the prompt text");
  o->ids = cmd->add_option(
      "--prompt-tokens", o->prompt_tokens,
      "Prompt as comma-separated token ids: prints the generated ids instead of text, greedy "
      "unless --temp is given, and does not stop at end-of-generation tokens (for comparisons)");
  o->fim_pre = cmd->add_option("--fim-prefix", o->fim_prefix,
                               "Fill-in-the-middle: the code before the cursor");
  o->fim_suf = cmd->add_option("--fim-suffix", o->fim_suffix,
                               "Fill-in-the-middle: the code after the cursor");
  cmd->add_flag("--no-parse-special", o->no_parse_special,
                "Keep special-token texts such as <|im_start|> in the prompt as plain text");
  cmd->add_flag("--truncate", o->truncate,
                "Keep the prompt's last tokens that fit the context instead of failing");
  cmd->add_option("--dump-logits", o->dump_logits,
                  "Write the logits of every evaluated position as float32 .npy [rows, n_vocab]: "
                  "the prompt's positions, then each generated token fed back "
                  "(n_prompt + max(n - 1, 0) rows, fewer if generation stops early)");
  cmd->add_option("--activations", o->activations,
                  "f32 (the reference), or llama-cpu: round each matmul's input as llama.cpp's "
                  "CPU backend does (Q8_0/Q8_K/F16), to compare with it")
      ->check(CLI::IsMember({"f32", "llama-cpu"}))
      ->capture_default_str();
  cmd->add_option("--budget-check", o->budget_factor,
                  "Stop with an error when a brick of any step exceeds its budget (times "
                  "the factor given, e.g. --budget-check=2); times every brick")
      ->expected(0, 1)
      ->default_str("1")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--verify", o->verify,
                "Check every brick of every step against the CPU reference brick on the same "
                "inputs (tolerance, no NaN/Inf); the first failure stops with an error naming "
                "the brick, layer, position and error. Slow: steps run brick by brick");
  cmd->add_option("--plant-fault", o->plant_fault,
                  "Testing --verify: make one brick a wrong kernel (%value or kind@layer, e.g. "
                  "matvec_add@3)");
  cmd->callback([o] { run(*o); });
}

}  // namespace brickc::tools
