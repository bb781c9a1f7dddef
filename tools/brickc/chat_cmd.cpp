// `brickc chat`: an interactive ChatML conversation. Each turn renders the history with
// the model's template and feeds only what the KV cache does not hold yet; the answer is
// streamed as it is sampled. /reset forgets the history, /exit (or end of input) quits;
// Ctrl-C stops the answer being written, or quits at the prompt.
#include <fmt/core.h>
#include <fcntl.h>
#include <poll.h>
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
#include "runtime/session.h"
#include "tools/brickc/backend.h"
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
// The self-pipe: the handler writes a byte to it, so that a Ctrl-C that lands just before
// the prompt's wait begins is still seen by poll(); a flag alone would be missed there.
int g_wake[2] = {-1, -1};

void on_sigint(int) {
  g_interrupted = 1;
  const int saved = errno;
  [[maybe_unused]] const ssize_t n = ::write(g_wake[1], "!", 1);
  errno = saved;
}

// SIGINT sets the flag and wakes the prompt instead of ending the program.
void catch_sigint() {
  if (::pipe(g_wake) != 0) fail("cannot create a pipe: {}", std::strerror(errno));
  for (int fd : g_wake) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
}

// Forgets Ctrl-C presses so far (one that stopped an answer must not also quit).
void clear_interrupt() {
  char junk[64];
  while (::read(g_wake[0], junk, sizeof junk) > 0) {
  }
  g_interrupted = 0;
}

// Lines from a file descriptor, waiting with poll() on it and on the self-pipe so that
// Ctrl-C at the prompt is noticed (std::getline would just keep waiting).
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its '\n'; none at end of input or on Ctrl-C. A last line
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
      pollfd fds[2] = {{fd_, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        fail("cannot wait for standard input: {}", std::strerror(errno));
      }
      if (fds[1].revents & POLLIN) return std::nullopt;
      if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        fail("cannot read standard input: {}", std::strerror(errno));
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
  const auto file = gguf::File::open(o.gen.model);
  const qwen2::Config cfg = qwen2::read_config(*file);
  const int64_t n_ctx = context_length(o.gen, cfg);
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  const auto tmpl = chat::ChatTemplate::from_gguf(*file, tok.vocab());
  sampling::Sampler sampler(sampler_params(o.gen));
  BackendOptions bo;
  bo.device = o.gen.device;
  bo.threads = o.gen.threads;
  bo.engine = o.gen.engine;
  bo.n_ctx = n_ctx;
  bo.n_ubatch = o.gen.n_ubatch;
  bo.task_timeout_s = o.gen.task_timeout_s;
  bo.cache = o.gen.cache;
  Backend backend = open_backend(*file, bo);
  runtime::Session session(*backend.decoder, sampler);

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
               o.gen.model, n_ctx, backend.label, sampler.seed());
  while (true) {
    clear_interrupt();
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
  o->system_opt = cmd->add_option("-s,--system", o->system,
                                  "System prompt (default: the template's own)");
  cmd->callback([o] { chat(*o); });
}

}  // namespace brickc::tools
