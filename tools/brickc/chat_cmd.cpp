// `brickc chat`: an interactive ChatML conversation. Each turn renders the history with
// the model's template and feeds only what the KV cache does not hold yet; the answer is
// streamed as it is sampled. /reset forgets the history, /exit (or end of input) quits;
// Ctrl-C stops the answer being written, or quits at the prompt.
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/chat/chatml.h"
#include "frontend/chat/special_tokens.h"
#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"
#include "runtime/cpu/forward.h"
#include "runtime/cpu/qwen2_decoder.h"
#include "runtime/session.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"

namespace brickc::tools {
namespace {

struct ChatOptions {
  GenerationFlags gen;
  std::string system;
  CLI::Option* system_opt = nullptr;
};

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) { g_interrupted = 1; }

// SIGINT sets a flag instead of ending the program. Without SA_RESTART, a read() waiting
// at the prompt returns EINTR, so Ctrl-C there is seen at once.
void catch_sigint() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
}

// Lines from a file descriptor with read(2), so that an interrupted read is noticed
// (std::getline would retry or fail without saying why).
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its '\n'; none at end of input or on SIGINT. A last line
  // without a newline still counts.
  std::optional<std::string> next() {
    while (true) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      if (eof_) {
        if (buf_.empty()) return std::nullopt;
        return std::exchange(buf_, {});
      }
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0) {
        if (errno == EINTR && !g_interrupted) continue;
        if (errno != EINTR) fail("cannot read standard input: {}", std::strerror(errno));
        return std::nullopt;
      }
      if (n == 0) eof_ = true;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
  bool eof_ = false;
};

void write_out(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

void chat(const ChatOptions& o) {
  const std::string device = pick_device(o.gen.device);
  const auto file = gguf::File::open(o.gen.model);
  const qwen2::Config cfg = qwen2::read_config(*file);
  const int64_t n_ctx = context_length(o.gen, cfg);
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  const auto tmpl = chat::ChatTemplate::from_gguf(*file, tok.vocab());
  sampling::Sampler sampler(sampler_params(o.gen));
  cpu::Qwen2Model model(*file, {o.gen.threads, n_ctx, cpu::Activations::kF32});
  cpu::Qwen2Decoder decoder(model);
  runtime::Session session(decoder, sampler);

  runtime::GenerateOptions go;
  go.n_predict = o.gen.n_predict;
  go.eog = chat::eog_tokens(tok.vocab());
  go.interrupted = [] { return g_interrupted != 0; };

  std::vector<chat::Message> initial;
  if (o.system_opt->count()) initial.push_back({"system", o.system});
  std::vector<chat::Message> messages = initial;
  // The rendered conversation that the session holds (as text; its tokens are those fed
  // and generated, which need not be how this text would tokenize).
  std::string held;

  const bool tty = isatty(STDIN_FILENO);
  catch_sigint();
  LineReader input(STDIN_FILENO);
  if (tty)
    fmt::print(stderr, "brickc chat: {} ({} context, {}, seed {}); /reset clears the history, "
               "/exit or Ctrl-D quits, Ctrl-C stops an answer\n",
               o.gen.model, n_ctx, device, sampler.seed());
  while (true) {
    g_interrupted = 0;
    if (tty) write_out("> ");
    const std::optional<std::string> line = input.next();
    if (!line) {
      if (tty) write_out("\n");
      return;
    }
    if (line->empty()) continue;
    if (*line == "/exit") return;
    if (*line == "/reset") {
      session.reset();
      messages = initial;
      held.clear();
      fmt::print(stderr, "[history cleared]\n");
      continue;
    }

    messages.push_back({"user", *line});
    const std::string full = tmpl.render(messages);
    if (!full.starts_with(held)) {  // the template rendered history differently: start over
      session.reset();
      held.clear();
    }
    const std::vector<int32_t> ids = tok.encode(std::string_view(full).substr(held.size()));
    // At least one position must be left for the answer.
    const int64_t used = session.n_tokens();
    if (used + static_cast<int64_t>(ids.size()) >= n_ctx) {
      messages.pop_back();
      fmt::print(stderr,
                 "context full: this turn needs {} tokens but {} of the {} positions are in "
                 "use; /reset clears the history (or use a larger -c)\n",
                 ids.size() + 1, used, n_ctx);
      continue;
    }

    tokenizer::StreamDecoder shown(tok);
    std::string answer;  // control tokens spelled out: the text the cache holds
    const runtime::GenerateStats s = session.generate(ids, go, [&](int32_t t) {
      answer += tok.token_to_piece(t, /*special=*/true);
      write_out(shown.push(t));
    });
    write_out(shown.flush() + "\n");
    std::clearerr(stdout);  // a write cut by SIGINT must not silence the rest
    held = full + answer;
    messages.push_back({"assistant", answer});
    const std::string decode =
        s.n_decoded > 0 ? fmt::format(", {:.1f} tok/s", s.n_decoded / s.t_decode) : "";
    fmt::print(stderr, "[prompt {} tokens, generated {} tokens ({}), context {}/{}{}]\n",
               s.n_prompt, s.n_generated, runtime::describe(s.stop), session.n_tokens(), n_ctx,
               decode);
    if (s.stop == runtime::StopReason::kContextFull)
      fmt::print(stderr, "context full: the answer was cut; /reset clears the history\n");
  }
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "chat",
      "Interactive chat with a ChatML model: one message per line; /reset clears the "
      "history, /exit or end of input quits, Ctrl-C stops an answer (quits at the prompt)");
  auto o = std::make_shared<ChatOptions>();
  add_generation_flags(cmd, o->gen,
                       "Tokens per answer at most; -1: until an end-of-generation token or a "
                       "full context");
  o->gen.n_predict = -1;
  o->system_opt = cmd->add_option("-s,--system", o->system,
                                  "System prompt (default: the template's own)");
  cmd->callback([o] { chat(*o); });
}

}  // namespace brickc::tools
