// `brickc top` (cbtop): generates greedily in the background and shows, live, where each
// decode step's time goes, brick kind by brick kind, against the budgets, in an ncurses UI;
// keys switch panels. `--once` prints one frame as plain text for scripts. The numbers and
// the frames come from runtime/top; this file owns the flags and the terminal.
#include <curses.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "runtime/cpu/cores.h"
#include "runtime/cuda/model.h"
#include "runtime/top/frame.h"
#include "runtime/top/monitor.h"
#include "runtime/top/nvml.h"
#include "tools/brickc/backend.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"

namespace brickc::tools {
namespace {

struct TopOptions {
  std::string model;
  std::string device = "auto";
  std::string engine = "auto";
  int threads = 1;
  int64_t n_ctx = 512;
  int64_t verify_every = 64;
  int refresh_ms = 250;
  bool once = false;
  int64_t once_steps = 16;
  int cols = 100, rows = 40;  // --once's frame
};

// Set by SIGINT/SIGTERM; the UI loop sees it within one refresh and shuts down cleanly.
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string model_name(const gguf::File& f) {
  const std::string path = f.path();
  return f.find_str("general.name").value_or(path.substr(path.find_last_of('/') + 1));
}

void move(top::View& v, const top::Snapshot& s, int delta, int cols, int rows) {
  if (v.panel == top::Panel::kPipeline) {
    const size_t n = s.profile ? top::kind_rows(*s.profile).size() : 0;
    if (n == 0) return;
    v.selected = static_cast<size_t>(
        std::clamp<long>(static_cast<long>(v.selected) + delta, 0, static_cast<long>(n) - 1));
    return;
  }
  const long last = static_cast<long>(top::max_scroll(s, v, cols, rows));
  v.scroll = static_cast<size_t>(std::clamp<long>(static_cast<long>(v.scroll) + delta, 0, last));
}

void show(top::View& v, top::Panel p) {
  v.panel = v.panel == p ? top::Panel::kPipeline : p;  // the panel's key toggles it
  v.scroll = 0;
}

// False when the key quits.
bool on_key(int ch, top::View& v, const top::Snapshot& s, int cols, int rows) {
  switch (ch) {
    case 'q':
    case 'Q':
      return false;
    case 27:  // Esc
      show(v, top::Panel::kPipeline);
      break;
    case '\n':
    case '\r':
    case KEY_ENTER:
      show(v, v.panel == top::Panel::kPipeline ? top::Panel::kDrill : top::Panel::kPipeline);
      break;
    case 'b':
      v.budget_vs_actual = !v.budget_vs_actual;
      break;
    case 'h':
      show(v, top::Panel::kHistogram);
      break;
    case 'g':
      show(v, top::Panel::kGpu);
      break;
    case 'm':
      show(v, top::Panel::kBandwidth);
      break;
    case 'a':
      show(v, top::Panel::kAssertions);
      break;
    case KEY_UP:
    case 'k':
      move(v, s, -1, cols, rows);
      break;
    case KEY_DOWN:
    case 'j':
      move(v, s, 1, cols, rows);
      break;
    case KEY_PPAGE:
      move(v, s, -(rows / 2), cols, rows);
      break;
    case KEY_NPAGE:
      move(v, s, rows / 2, cols, rows);
      break;
    default:
      break;
  }
  return true;
}

// The curses screen, ended on every way out so that the shell gets its terminal back.
class Screen {
 public:
  explicit Screen(int refresh_ms) {
    screen_ = newterm(nullptr, stdout, stdin);
    if (!screen_) {
      const char* term = std::getenv("TERM");
      fail("brickc top: cannot start the terminal UI for TERM='{}'", term ? term : "");
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);     // Esc alone, not the start of an arrow key's sequence, after 25 ms
    timeout(refresh_ms);  // getch sleeps until a key or the next refresh
  }
  ~Screen() {
    endwin();
    delscreen(screen_);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  void paint(const std::vector<std::string>& lines) {
    erase();
    for (size_t i = 0; i < lines.size(); ++i) {
      const bool chrome = i == 0 || i + 1 == lines.size();  // the header and the key help
      if (chrome) attron(A_REVERSE);
      mvaddnstr(static_cast<int>(i), 0, lines[i].c_str(), COLS);
      if (chrome) attroff(A_REVERSE);
    }
    refresh();
  }

 private:
  SCREEN* screen_ = nullptr;
};

void run_ui(top::Monitor& mon, const TopOptions& o) {
  Screen screen(o.refresh_ms);
  top::View v;
  while (!g_stop) {
    top::Snapshot s = mon.snapshot();
    if (v.panel == top::Panel::kGpu) s.gpu = top::read_gpu();
    // KEY_RESIZE arrives after curses has updated LINES and COLS: the next frame fits.
    screen.paint(top::render(s, v, COLS, LINES));
    const int ch = getch();
    if (ch != ERR && ch != KEY_RESIZE && !on_key(ch, v, s, COLS, LINES)) break;
  }
}

void run(const TopOptions& o) {
  // Before the model loads, which can take a while.
  if (!o.once && (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)))
    fail("brickc top needs a terminal on stdin and stdout; --once prints one frame as text");
  const auto file = gguf::File::open(o.model);
  const qwen2::Config cfg = qwen2::read_config(*file);
  BackendOptions bo;
  bo.device = o.device;
  bo.threads = o.threads;
  bo.engine = o.engine;
  bo.n_ctx = std::min<int64_t>(o.n_ctx, cfg.n_ctx_train);
  bo.profile = true;
  bo.brick_steps = o.verify_every > 0;
  Backend backend = open_backend(*file, bo);

  top::MonitorOptions mo;
  mo.model = model_name(*file);
  mo.device = backend.label;
  mo.budget_profile = backend.device == "cuda" ? cuda::budget_profile(backend.label) : "cpu";
  mo.verify_every = o.verify_every;
  mo.verify_threads = o.threads;
  if (o.once) mo.max_samples = o.once_steps;
  top::Monitor mon(*backend.decoder, *file, mo);

  if (o.once) {
    const top::Snapshot s = mon.wait_for_samples(o.once_steps, std::chrono::hours(24));
    if (!s.error.empty()) fail("brickc top: {}", s.error);
    for (const std::string& line : top::render(s, top::View{}, o.cols, o.rows))
      fmt::print("{}\n", line);
    return;
  }
  std::signal(SIGINT, on_signal);  // before newterm, so that curses leaves it in place
  std::signal(SIGTERM, on_signal);
  run_ui(mon, o);
  mon.stop();
  const top::Snapshot s = mon.snapshot();
  if (!s.error.empty()) fail("brickc top: the generator stopped: {}", s.error);
}

}  // namespace

void add_top_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "top",
      "Live per-brick view of decode (cbtop): generates in the background and shows each brick "
      "kind's time against its budget, the bottleneck, latency, GPU state, bandwidth and brick "
      "checks");
  auto o = std::make_shared<TopOptions>();
  o->threads = cpu::physical_cores();
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  add_device_flags(cmd, o->device, o->threads, o->engine, "CPU threads of the CPU backend and the reference (default: the physical cores)");
  cmd->add_option("-c,--ctx-size", o->n_ctx,
                  "Context length; generation starts over when it is full (at most the model's "
                  "context_length)")
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--verify-every", o->verify_every,
                  "Check every brick of one step in N against the CPU reference (the a panel); "
                  "0: never")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--refresh-ms", o->refresh_ms, "Time between frames")
      ->check(CLI::Range(20, 10000))
      ->capture_default_str();
  cmd->add_flag(
      "--once", o->once,
      "Print one frame of the pipeline as text after --steps timed steps, no terminal UI");
  cmd->add_option("--steps", o->once_steps, "--once: timed decode steps the frame covers")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--cols", o->cols, "--once: frame width")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--rows", o->rows, "--once: frame height")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->callback([o] { run(*o); });
}

}  // namespace brickc::tools
