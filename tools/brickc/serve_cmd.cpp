// `brickc serve`: an OpenAI-compatible HTTP server for one model (runtime/serve/). One
// request generates at a time, or up to --parallel together (CPU or GPU); SIGINT/SIGTERM end
// the running ones and exit with status 0.
#include <fmt/core.h>
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "runtime/cpu/cores.h"
#include "runtime/serve/batch_engine.h"
#include "runtime/serve/server.h"
#include "tools/brickc/backend.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"

namespace brickc::tools {
namespace {

struct ServeOptions {
  GenerationFlags gen;  // model, device, threads and context only
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  int parallel = 1;
};

// SIGINT and SIGTERM blocked in every thread (threads inherit the mask, so this runs before
// any is made) and taken by sigtimedwait in one of ours: stopping the server from a signal
// handler would not be async-signal-safe.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client gone mid-stream is an error value, not a death
  return set;
}

void serve(const ServeOptions& o) {
  const sigset_t signals = block_stop_signals();
  const auto file = gguf::File::open(o.gen.model);
  const qwen2::Config cfg = qwen2::read_config(*file);
  BackendOptions bo;
  bo.device = o.gen.device;
  bo.threads = o.gen.threads;
  bo.engine = o.gen.engine;
  bo.n_ctx = context_length(o.gen, cfg);
  bo.parallel = o.parallel;
  bo.cache = o.gen.cache;
  Backend backend = open_backend(*file, bo);

  serve::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.api_key = o.api_key;
  so.model_id = std::filesystem::path(o.gen.model).filename().string();
  // With a batch, the requests about to join the next step wait too.
  if (o.parallel > 1) so.max_waiting += o.parallel;
  serve::Server server(
      *file,
      [&](const tokenizer::Tokenizer& tok, std::vector<int32_t> eog, int64_t max_waiting)
          -> std::unique_ptr<serve::Engine> {
        if (backend.batch)
          return std::make_unique<serve::BatchEngine>(*backend.batch, tok, std::move(eog),
                                                      max_waiting);
        return std::make_unique<serve::SerialEngine>(*backend.decoder, tok, std::move(eog),
                                                     max_waiting);
      },
      so);
  server.bind();
  fmt::print(stderr, "brickc serve: {} ({} context, {}) on http://{}:{}\n", so.model_id,
             bo.n_ctx, backend.label, o.host, server.port());

  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    bool asked = false;
    while (!finished) {
      const timespec tick{0, 100'000'000};
      if (sigtimedwait(&signals, nullptr, &tick) > 0 && !asked) {
        asked = true;
        fmt::print(stderr, "brickc serve: stopping\n");
      }
      // Again at every tick: a stop that lands before the server listens would be lost.
      if (asked) server.stop();
    }
  });
  server.run();
  finished = true;
  watcher.join();
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve",
      "OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/models, "
      "/infill, /tokenize, /detokenize, /health, /metrics");
  auto o = std::make_shared<ServeOptions>();
  auto& g = o->gen;
  g.threads = cpu::physical_cores();
  cmd->add_option("-m,--model", g.model, "GGUF model file")->required();
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "Port to listen on; 0: any free port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("-c,--ctx-size", g.n_ctx,
                  "Context length (default: 4096 or the model's context_length if smaller)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--api-key", o->api_key,
                  "Require 'Authorization: Bearer KEY' on every endpoint but /health");
  add_device_flags(cmd, g.device, g.threads, g.engine);
  add_cache_flags(cmd, g.cache);
  cmd->add_option("--parallel", o->parallel,
                  "Requests decoded together (continuous batching, on the CPU or the GPU); "
                  "each has the whole context")
      ->capture_default_str();
  cmd->callback([o] { serve(*o); });
}

}  // namespace brickc::tools
