// `brickc perplexity`: a text file's perplexity under the model, computed as llama.cpp's
// llama-perplexity does by default (runtime/perplexity.h), so that the two compare: the
// running estimate after each chunk and the final one on stdout, sizes and speed on stderr.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"
#include "runtime/cpu/cores.h"
#include "runtime/perplexity.h"
#include "tools/brickc/backend.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"
#include "tools/brickc/output_file.h"

namespace brickc::tools {
namespace {

struct PerplexityFlags {
  std::string model;
  std::string file;
  int64_t n_ctx = 512;     // llama-perplexity's default context
  int64_t n_chunks = -1;   // -1: all
  int64_t n_ubatch = 512;
  std::string device = "auto";
  std::string engine = "auto";
  int threads = 1;
  runtime::CacheTypes cache;
  std::string json;
};

// What --json records; the fields are those printed.
nlohmann::ordered_json result_json(const PerplexityFlags& o, const runtime::Perplexity& p,
                                   const Backend& b, bool add_bos,
                                   const std::vector<double>& running,
                                   const std::vector<double>& chunk_s, double total_s) {
  const runtime::NllSum& s = p.sum();
  const auto err = s.ppl_error();
  nlohmann::ordered_json chunks = nlohmann::ordered_json::array();
  for (size_t i = 0; i < running.size(); ++i)
    chunks.push_back({{"ppl", running[i]}, {"seconds", chunk_s[i]}});
  return {{"schema", "brickc-perplexity/1"},
          {"model", o.model},
          {"text", o.file},
          {"device", {{"kind", b.device}, {"label", b.label}}},
          {"n_tokens", p.n_tokens()},
          {"add_bos", add_bos},
          {"n_ctx", p.n_ctx()},
          {"n_ubatch", o.n_ubatch},
          {"n_chunks", p.n_chunks()},
          {"scored", s.count},
          {"nll_mean", s.nll / static_cast<double>(s.count)},
          {"ppl", s.ppl()},
          {"ppl_error", err ? nlohmann::ordered_json(*err) : nlohmann::ordered_json(nullptr)},
          {"chunks", chunks},
          {"seconds", total_s},
          {"tok_s", static_cast<double>(p.n_chunks() * p.n_ctx()) / std::max(total_s, 1e-9)}};
}

void run(const PerplexityFlags& o) {
  if (!o.json.empty()) check_writable(o.json, "--json");
  const auto file = gguf::File::open(o.model);
  const qwen2::Config cfg = qwen2::read_config(*file);
  if (o.n_ctx > static_cast<int64_t>(cfg.n_ctx_train))
    fail("-c {} exceeds the model's context_length {}", o.n_ctx, cfg.n_ctx_train);

  const std::string text = read_prompt_file(o.file, "text file");
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  // As llama-perplexity: the text as it is (special-token texts stay text), BOS in front
  // where the vocabulary adds one.
  std::vector<int32_t> tokens = tok.encode(text, /*parse_special=*/false);
  const bool add_bos = tok.vocab().add_bos;
  if (add_bos) tokens.insert(tokens.begin(), *tok.vocab().bos);

  runtime::PerplexityOptions po;
  po.source = o.file;
  po.n_ctx = o.n_ctx;
  po.max_chunks = o.n_chunks;
  if (add_bos) po.bos = tok.vocab().bos;
  runtime::Perplexity ppl(std::move(tokens), po);

  BackendOptions bo;
  bo.device = o.device;
  bo.threads = o.threads;
  bo.engine = o.engine;
  bo.n_ctx = o.n_ctx;
  bo.n_ubatch = o.n_ubatch;
  bo.cache = o.cache;
  bo.each = [&ppl](int64_t pos, std::span<const float> logits) { ppl.observe(pos, logits); };
  Backend backend = open_backend(*file, bo);

  fmt::print(stderr,
             "brickc perplexity: {}: {} tokens{}; {} chunks of n_ctx {} (positions {} .. {} "
             "scored), n_ubatch {}, device {}\n",
             o.file, ppl.n_tokens(), add_bos ? " (BOS added)" : "", ppl.n_chunks(), o.n_ctx,
             o.n_ctx / 2, o.n_ctx - 2, o.n_ubatch, backend.label);
  std::vector<double> running, chunk_s;
  double total_s = 0;
  for (int64_t i = 0; i < ppl.n_chunks(); ++i) {
    chunk_s.push_back(ppl.run_chunk(*backend.decoder, i));
    total_s += chunk_s.back();
    running.push_back(ppl.sum().ppl());
    fmt::print("[{}]{:.4f},", i + 1, running.back());
    std::fflush(stdout);
  }
  fmt::print("\n");
  const runtime::NllSum& s = ppl.sum();
  if (const auto err = s.ppl_error())
    fmt::print("Final estimate: PPL = {:.4f} +/- {:.5f}\n", s.ppl(), *err);
  else
    fmt::print("Final estimate: PPL = {:.4f} (no uncertainty: the per-token NLL does not vary)\n",
               s.ppl());
  std::fflush(stdout);
  const int64_t evaluated = ppl.n_chunks() * o.n_ctx;
  fmt::print(stderr,
             "brickc perplexity: {} chunks of {} tokens in {:.2f} s: {:.3f} s per chunk, {:.2f} "
             "tok/s\n",
             ppl.n_chunks(), o.n_ctx, total_s, total_s / static_cast<double>(ppl.n_chunks()),
             static_cast<double>(evaluated) / std::max(total_s, 1e-9));
  if (!o.json.empty())
    write_file(o.json, "--json",
               result_json(o, ppl, backend, add_bos, running, chunk_s, total_s).dump(2) + "\n");
}

}  // namespace

void add_perplexity_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "perplexity",
      "Perplexity of a text file as llama.cpp's llama-perplexity computes it: chunks of -c "
      "tokens, each from an empty cache, the second half of each scored");
  auto o = std::make_shared<PerplexityFlags>();
  o->threads = cpu::physical_cores();
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-f,--file", o->file,
                  "Text file to score (tokenized with the model's vocabulary)")
      ->required();
  cmd->add_option("-c,--ctx-size", o->n_ctx, "Tokens per chunk (the context of each evaluation)")
      ->check(CLI::Range(int64_t{3}, int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--chunks", o->n_chunks,
                  "Chunks to evaluate at most (default: all that the text fills)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--ubatch-size", o->n_ubatch,
                  "-ub: prompt tokens evaluated together in one step (llama.cpp's micro-batch)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  add_device_flags(cmd, o->device, o->threads, o->engine);
  add_cache_flags(cmd, o->cache);
  cmd->add_option("--json", o->json,
                  "Write the result as JSON (schema brickc-perplexity/1): sizes, the running "
                  "estimate and seconds of each chunk, the final PPL and its uncertainty");
  cmd->callback([o] { run(*o); });
}

}  // namespace brickc::tools
