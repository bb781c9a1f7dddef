#include "runtime/serve/server.h"

#include <fmt/core.h>
#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sys/socket.h>

#include "frontend/chat/chatml.h"
#include "frontend/chat/fim.h"
#include "frontend/chat/special_tokens.h"
#include "frontend/gguf/reader.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"
#include "runtime/serve/chat_page.h"
#include "runtime/serve/engine.h"
#include "runtime/serve/openai.h"
#include "runtime/serve/requests.h"

namespace brickc::serve {
namespace {

using json = nlohmann::json;

// More requests than the engine admits are answered 503 at once rather than queued.
class Busy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string body_of(const json& j) {
  // Invalid UTF-8 in generated text must not turn a finished answer into an error.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void send_json(httplib::Response& res, int status, const json& j) {
  res.status = status;
  res.set_content(body_of(j), "application/json");
}

template <typename T>
std::optional<T> try_make(std::string& why, auto make) {
  try {
    return make();
  } catch (const Error& e) {
    why = e.what();
    return std::nullopt;
  }
}

enum class Kind { kChat, kCompletion, kInfill };

// The logprobs of `l` in the shape of the endpoint; `offset`: bytes of text before them.
json logprobs_json(Kind kind, std::span<const TokenLogprobs> l, int64_t offset) {
  switch (kind) {
    case Kind::kChat: return chat_logprobs(l);
    case Kind::kCompletion: return completion_logprobs(l, offset);
    case Kind::kInfill: return infill_probabilities(l);
  }
  return nullptr;
}

}  // namespace

struct Server::Impl {
  Impl(const gguf::File& file, const EngineFactory& make_engine, ServerOptions opts)
      : o(std::move(opts)),
        tok(tokenizer::Tokenizer::from_gguf(file)),
        engine(make_engine(tok, chat::eog_tokens(tok.vocab()), o.max_waiting)),
        created(unix_now()) {
    chat_template = try_make<chat::ChatTemplate>(
        chat_error, [&] { return chat::ChatTemplate::from_gguf(file, tok.vocab()); });
    fim = try_make<chat::FimTokens>(
        fim_error, [&] { return chat::FimTokens::from_gguf(file, tok.vocab()); });
    routes();
  }

  void routes();
  // Handlers answer errors as OpenAI's error object: 400 naming the field the client got
  // wrong, 503 when the queue is full, 500 for a failure of ours.
  httplib::Server::Handler wrap(std::function<void(const httplib::Request&, httplib::Response&)> h);
  bool authorized(const httplib::Request& req) const;

  std::vector<int32_t> encode(std::string_view text, bool parse_special) {
    std::lock_guard lock(tok_mutex);  // the BPE cache is not thread-safe
    return tok.encode(text, parse_special);
  }
  std::vector<int32_t> chat_prompt(const ChatRequest& r);
  std::vector<int32_t> infill_prompt(const InfillRequest& r);
  void check_fits(size_t n_prompt, const GenParams& g, std::string_view prompt_field) const;
  void generate(httplib::Response& res, Kind kind, std::vector<int32_t> prompt, GenParams g);
  void stream(httplib::DataSink& sink, Kind kind, Engine::Ticket& ticket,
              const std::vector<int32_t>& prompt, const GenParams& g);

  ServerOptions o;
  tokenizer::Tokenizer tok;
  std::mutex tok_mutex;
  std::optional<chat::ChatTemplate> chat_template;
  std::string chat_error;
  std::optional<chat::FimTokens> fim;
  std::string fim_error;
  std::unique_ptr<Engine> engine;
  int64_t created;
  httplib::Server http;
  int bound_port = -1;
  int listen_socket = -1;  // as cpp-httplib made it (bind raises its backlog)
  std::atomic<bool> stopped{false};
};

httplib::Server::Handler Server::Impl::wrap(
    std::function<void(const httplib::Request&, httplib::Response&)> h) {
  return [this, h](const httplib::Request& req, httplib::Response& res) {
    ++engine->metrics().requests;
    try {
      h(req, res);
    } catch (const RequestError& e) {
      send_json(res, 400, error_object(e.what(), "invalid_request_error", e.param()));
    } catch (const Busy& e) {
      res.set_header("Retry-After", "1");
      send_json(res, 503, error_object(e.what(), "server_error", ""));
    } catch (const std::exception& e) {
      send_json(res, 500, error_object(e.what(), "server_error", ""));
    }
  };
}

bool Server::Impl::authorized(const httplib::Request& req) const {
  // The health check and the chat page carry no data; the page asks for the key itself.
  return o.api_key.empty() || req.path == "/health" || req.path == "/" ||
         req.get_header_value("Authorization") == "Bearer " + o.api_key;
}

std::vector<int32_t> Server::Impl::chat_prompt(const ChatRequest& r) {
  if (!chat_template)
    throw RequestError("messages", fmt::format("this model cannot chat: {}", chat_error));
  // As `brickc chat` and llama-server do: control tokens in the rendered text are parsed.
  return encode(chat_template->render(r.messages), /*parse_special=*/true);
}

std::vector<int32_t> Server::Impl::infill_prompt(const InfillRequest& r) {
  if (!fim) throw RequestError("input_prefix", fmt::format("this model cannot infill: {}", fim_error));
  chat::FimRequest f;
  f.prefix = r.input_prefix;
  f.suffix = r.input_suffix;
  // llama-server's repo-level frame whenever the vocabulary has its tokens, with its
  // placeholder names for the repository and the current file.
  if (fim->repo_name && fim->file_sep) {
    f.repo = "myproject";
    f.files = r.input_extra;
    f.path = "filename";
  } else if (!r.input_extra.empty()) {
    throw RequestError("input_extra",
                       "input_extra needs the <|repo_name|> and <|file_sep|> tokens, which this "
                       "model's vocabulary lacks");
  }
  std::vector<int32_t> ids;
  {
    std::lock_guard lock(tok_mutex);
    ids = chat::fim_prompt_tokens(tok, *fim, f);
  }
  if (!r.prompt.empty()) {
    // llama-server appends the prompt's own tokens to the prefix's, in front of
    // <|fim_suffix|>, which sits before the suffix's tokens and <|fim_middle|>.
    const size_t n_suffix = encode(r.input_suffix, false).size();
    const std::vector<int32_t> p = encode(r.prompt, false);
    ids.insert(ids.end() - static_cast<ptrdiff_t>(n_suffix + 2), p.begin(), p.end());
  }
  return ids;
}

void Server::Impl::check_fits(size_t n_prompt, const GenParams& g,
                              std::string_view prompt_field) const {
  const int64_t n_ctx = engine->n_ctx();
  const auto n = static_cast<int64_t>(n_prompt);
  if (n == 0) throw RequestError(std::string(prompt_field), "the prompt is empty");
  // One position at least is left for the answer.
  if (n >= n_ctx)
    throw RequestError(std::string(prompt_field),
                       fmt::format("the prompt has {} tokens; the context length is {} and at "
                                   "least one position must be left for the answer",
                                   n, n_ctx));
  if (g.max_tokens && n + *g.max_tokens > n_ctx)
    throw RequestError(g.max_tokens_field,
                       fmt::format("the prompt ({} tokens) plus {} ({}) is {} tokens, more than "
                                   "the context length {}",
                                   n, g.max_tokens_field, *g.max_tokens, n + *g.max_tokens, n_ctx));
}

void Server::Impl::generate(httplib::Response& res, Kind kind, std::vector<int32_t> prompt,
                            GenParams g) {
  const std::shared_ptr<Engine::Ticket> ticket = engine->admit();
  if (!ticket)
    throw Busy(fmt::format("{} requests are waiting for the model already; retry later",
                           o.max_waiting));
  if (g.stream) {
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, kind, ticket, prompt = std::move(prompt), g](size_t, httplib::DataSink& sink) {
          stream(sink, kind, *ticket, prompt, g);
          return true;
        });
    return;
  }
  const Outcome out = engine->generate(
      *ticket, prompt, g, [](std::string_view, std::span<const TokenLogprobs>) { return true; });
  const Usage u{out.prompt_tokens, out.completion_tokens, out.cached_tokens};
  const json probs = g.logprobs ? logprobs_json(kind, out.logprobs, 0) : json(nullptr);
  if (kind == Kind::kInfill) {
    send_json(res, 200, infill_result(out.text, u, true, probs));
    return;
  }
  const ResponseId id{new_id(kind == Kind::kChat ? "chatcmpl-" : "cmpl-"), unix_now(), o.model_id};
  send_json(res, 200,
            kind == Kind::kChat ? chat_completion(id, out.text, out.finish_reason, u, probs)
                                : text_completion(id, out.text, out.finish_reason, u, probs));
}

void Server::Impl::stream(httplib::DataSink& sink, Kind kind, Engine::Ticket& ticket,
                          const std::vector<int32_t>& prompt, const GenParams& g) {
  const ResponseId id{new_id(kind == Kind::kChat ? "chatcmpl-" : "cmpl-"), unix_now(), o.model_id};
  auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
  try {
    if (kind == Kind::kChat) write(sse_event(chat_chunk(id, "assistant", "", std::nullopt)));
    int64_t offset = 0;  // bytes of text sent, for the completions' text_offset
    const Outcome out = engine->generate(
        ticket, prompt, g, [&](std::string_view text, std::span<const TokenLogprobs> l) {
          const json probs = g.logprobs ? logprobs_json(kind, l, offset) : json(nullptr);
          offset += static_cast<int64_t>(text.size());
          switch (kind) {
            case Kind::kChat:
              return write(sse_event(chat_chunk(id, std::nullopt, text, std::nullopt,
                                                std::nullopt, probs)));
            case Kind::kCompletion:
              return write(sse_event(text_chunk(id, text, std::nullopt, std::nullopt, probs)));
            case Kind::kInfill: {
              json chunk = {{"content", text}, {"stop", false}};
              if (g.logprobs) chunk["completion_probabilities"] = probs;
              return write(sse_event(chunk));
            }
          }
          return false;
        });
    const Usage u{out.prompt_tokens, out.completion_tokens, out.cached_tokens};
    if (kind == Kind::kInfill) {
      write(sse_event(infill_result("", u, true)));
    } else {
      const std::string_view reason = out.finish_reason;
      write(sse_event(kind == Kind::kChat ? chat_chunk(id, std::nullopt, "", reason)
                                          : text_chunk(id, "", reason)));
      if (g.include_usage)
        write(sse_event(kind == Kind::kChat ? chat_chunk(id, std::nullopt, "", std::nullopt, u)
                                            : text_chunk(id, "", std::nullopt, u)));
      write(std::string(kSseDone));
    }
  } catch (const std::exception& e) {
    // The status line has gone out already: the error travels as an event.
    write(sse_event(error_object(e.what(), "server_error", "")));
  }
  sink.done();
}

void Server::Impl::routes() {
  // One connection thread per request that may wait, plus some for the cheap endpoints.
  const size_t threads = static_cast<size_t>(o.max_waiting) + 8;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
    ++engine->metrics().requests;
    send_json(res, 401,
              error_object("invalid or missing API key: send the header 'Authorization: Bearer "
                           "<key>' with the key given to --api-key",
                           "authentication_error", ""));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Unrouted paths and methods: httplib sets the status, this gives them a body.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    send_json(res, res.status,
              error_object(fmt::format("no endpoint {} {}", req.method, req.path),
                           "invalid_request_error", ""));
    return httplib::Server::HandlerResponse::Handled;
  }));

  http.Get("/", wrap([](const httplib::Request&, httplib::Response& res) {
             res.set_content(std::string(chat_page()), "text/html; charset=utf-8");
           }));
  http.Get("/health", wrap([](const httplib::Request&, httplib::Response& res) {
             send_json(res, 200, {{"status", "ok"}});
           }));
  http.Get("/v1/models", wrap([this](const httplib::Request&, httplib::Response& res) {
             send_json(res, 200, model_list(o.model_id, created));
           }));
  http.Get("/metrics", wrap([this](const httplib::Request&, httplib::Response& res) {
             res.set_content(engine->metrics().prometheus_text(), "text/plain; version=0.0.4");
           }));
  http.Post("/v1/chat/completions", wrap([this](const httplib::Request& req, httplib::Response& res) {
              ChatRequest r = parse_chat_request(req.body);
              std::vector<int32_t> prompt = chat_prompt(r);
              check_fits(prompt.size(), r.gen, "messages");
              generate(res, Kind::kChat, std::move(prompt), std::move(r.gen));
            }));
  http.Post("/v1/completions", wrap([this](const httplib::Request& req, httplib::Response& res) {
              CompletionRequest r = parse_completion_request(req.body);
              std::vector<int32_t> prompt = encode(r.prompt, /*parse_special=*/true);
              check_fits(prompt.size(), r.gen, "prompt");
              generate(res, Kind::kCompletion, std::move(prompt), std::move(r.gen));
            }));
  http.Post("/infill", wrap([this](const httplib::Request& req, httplib::Response& res) {
              InfillRequest r = parse_infill_request(req.body);
              std::vector<int32_t> prompt = infill_prompt(r);
              check_fits(prompt.size(), r.gen, "input_prefix");
              generate(res, Kind::kInfill, std::move(prompt), std::move(r.gen));
            }));
  http.Post("/tokenize", wrap([this](const httplib::Request& req, httplib::Response& res) {
              const TokenizeRequest r = parse_tokenize_request(req.body);
              send_json(res, 200, {{"tokens", encode(r.content, r.parse_special)}});
            }));
  http.Post("/detokenize", wrap([this](const httplib::Request& req, httplib::Response& res) {
              const DetokenizeRequest r = parse_detokenize_request(req.body);
              const int32_t n_vocab = tok.vocab().size();
              for (size_t i = 0; i < r.tokens.size(); ++i)
                if (r.tokens[i] >= n_vocab)
                  throw RequestError(fmt::format("tokens[{}]", i),
                                     fmt::format("token id {} is out of range: the vocabulary has "
                                                 "{} tokens",
                                                 r.tokens[i], n_vocab));
              send_json(res, 200, {{"content", tok.decode(r.tokens, /*special=*/true)}});
            }));
}

Server::Server(const gguf::File& file, const EngineFactory& make_engine, ServerOptions o)
    : impl_(std::make_unique<Impl>(file, make_engine, std::move(o))) {}

Server::~Server() = default;

void Server::bind() {
  auto& i = *impl_;
  // cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into
  // Debian's library), so of 64 clients that connect at once some were reset (the H200
  // machine's 64-stream bursts). The listening socket is kept as it is made, and a second
  // listen() after the bind raises its backlog in place (Linux).
  i.http.set_socket_options([&i](socket_t s) {
    httplib::default_socket_options(s);
    i.listen_socket = s;
  });
  errno = 0;
  if (i.o.port == 0) {
    i.bound_port = i.http.bind_to_any_port(i.o.host);
    if (i.bound_port < 0) fail("cannot listen on {} (any port): {}", i.o.host, std::strerror(errno));
  } else {
    if (!i.http.bind_to_port(i.o.host, i.o.port))
      fail("cannot listen on {}:{}: {}", i.o.host, i.o.port,
           errno ? std::strerror(errno) : "the address is in use or not local");
    i.bound_port = i.o.port;
  }
  if (::listen(i.listen_socket, SOMAXCONN) != 0)
    fail("cannot listen on {}:{} with a backlog of {}: {}", i.o.host, i.bound_port, SOMAXCONN,
         std::strerror(errno));
}

int Server::port() const { return impl_->bound_port; }

void Server::run() {
  if (!impl_->stopped) impl_->http.listen_after_bind();
}

void Server::stop() {
  impl_->stopped = true;
  impl_->engine->stop();
  impl_->http.stop();
}

}  // namespace brickc::serve
