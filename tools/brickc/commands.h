// Subcommands of the brickc driver. Each file adds one subcommand to the app; the
// subcommands only parse flags and call the libraries.
#pragma once
#include <CLI/CLI.hpp>

namespace brickc::tools {

void add_inspect_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_devices_command(CLI::App& app);
void add_compile_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_top_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_serve_command(CLI::App& app);

}  // namespace brickc::tools
