// brickc: the one driver tool. Library errors surface here as one line on stderr and
// exit code 1; flag errors are CLI11's (exit code 2 style usage messages).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstring>
#include <vector>

#include "ir/error.h"
#include "tools/brickc/commands.h"

namespace {

// llama.cpp spells some flags with one dash and several letters; CLI11 takes one letter
// after a single dash, so these become their long names before parsing, in the commands
// that have them only (elsewhere "-ub" may be a prompt's text).
void long_names_for_llama_flags(std::vector<char*>& args) {
  static char ubatch[] = "--ubatch-size";
  const bool has_ub = args.size() > 1 && (std::strcmp(args[1], "bench") == 0 ||
                                          std::strcmp(args[1], "perplexity") == 0);
  if (!has_ub) return;
  for (char*& a : args)
    if (std::strcmp(a, "-ub") == 0) a = ubatch;
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f, a quota) a write then fails with EFBIG, which the
  // writers report naming the file and clean up after, instead of the kernel killing us.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"brickc: compiler and runtime for Qwen2.5-Coder decode"};
  app.require_subcommand(1);
  brickc::tools::add_inspect_command(app);
  brickc::tools::add_synth_command(app);
  brickc::tools::add_run_command(app);
  brickc::tools::add_devices_command(app);
  brickc::tools::add_compile_command(app);
  brickc::tools::add_tokenize_command(app);
  brickc::tools::add_chat_command(app);
  brickc::tools::add_bench_command(app);
  brickc::tools::add_score_command(app);
  brickc::tools::add_top_command(app);
  brickc::tools::add_perplexity_command(app);
  brickc::tools::add_serve_command(app);
  std::vector<char*> args(argv, argv + argc);
  long_names_for_llama_flags(args);
  try {
    app.parse(argc, args.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const brickc::Error& e) {
    fmt::print(stderr, "brickc: error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "brickc: error: out of host memory\n");
    return 1;
  }
  return 0;
}
