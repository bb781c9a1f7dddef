// `brickc serve`'s HTTP side: OpenAI's /v1/chat/completions, /v1/completions and /v1/models,
// llama-server's /infill, /tokenize, /detokenize, /health and /metrics, over one Engine.
// httplib stays inside server.cpp. Not the model's loading (the caller opens the decoder).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <functional>
#include <vector>

namespace brickc::gguf {
class File;
}
namespace brickc::tokenizer {
class Tokenizer;
}

namespace brickc::serve {

class Engine;
// Makes the engine requests run on, given the server's tokenizer (which outlives it), the
// end-of-generation tokens and ServerOptions::max_waiting.
using EngineFactory = std::function<std::unique_ptr<Engine>(
    const tokenizer::Tokenizer& tok, std::vector<int32_t> eog, int64_t max_waiting)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;        // 0: any free port (port() says which)
  std::string api_key;    // empty: no authentication
  std::string model_id;   // GET /v1/models' id: the model file's name
  int64_t max_waiting = 8;  // more requests waiting for the model get 503
};

class Server {
 public:
  // The tokenizer, chat template, FIM tokens and end-of-generation set come from `file`;
  // a model without a ChatML template or FIM tokens still serves the other endpoints.
  Server(const gguf::File& file, const EngineFactory& make_engine, ServerOptions o);
  ~Server();

  // Error naming host and port when the socket cannot be bound.
  void bind();
  int port() const;
  // Serves until stop(); returns once running requests have ended.
  void run();
  // From any thread: ends the running generation, refuses new ones, stops listening.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace brickc::serve
