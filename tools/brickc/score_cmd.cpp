// `brickc score`: the 0-100 score and grade of a `brickc bench --json` report, with each
// part's points, the fields it used and why points are missing (runtime/bench/score.h).
#include <fmt/core.h>

#include "runtime/bench/score.h"
#include "tools/brickc/commands.h"

namespace brickc::tools {

void add_score_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("score", "Score a brickc bench --json report: 0-100 and a grade");
  auto report = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("report", *report, "bench report (brickc bench --json)")->required();
  cmd->add_flag("--json", *as_json, "Print the score as JSON");
  cmd->callback([report, as_json] {
    const bench::Score s = bench::score_file(*report);
    if (*as_json)
      fmt::print("{}\n", bench::score_json(s).dump(2));
    else
      fmt::print("{}", bench::format_score(s));
  });
}

}  // namespace brickc::tools
