#include "passes/pass_manager.h"

#include <fmt/format.h>

#include <chrono>

#include "ir/error.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace brickc::passes {

void PassManager::run(ir::Graph& g) {
#ifndef NDEBUG
  const bool verify = true;
#else
  const bool verify = verify_each;
#endif
  timings_.clear();
  for (const PassInfo* p : pipeline_) {
    auto t0 = std::chrono::steady_clock::now();
    p->run(g, opts_);
    auto t1 = std::chrono::steady_clock::now();
    timings_.push_back({p->name, std::chrono::duration<double, std::milli>(t1 - t0).count()});
    if (verify) {
      auto problems = ir::verify(g);
      if (!problems.empty())
        fail("internal: the graph is invalid after pass {}:\n{}", p->name,
             ir::format(problems, fmt::format("after {}", p->name)));
    }
    if (sink && (print_after_all || print_after.contains(p->name)))
      sink(fmt::format("// -----// IR after {} //----- //\n{}", p->name, ir::print(g)));
  }
}

std::string PassManager::timing_report() const {
  double total = 0;
  for (const auto& t : timings_) total += t.ms;
  std::string s = "===-- pass execution timing report --===\n  wall ms    %   pass\n";
  for (const auto& t : timings_)
    s += fmt::format("  {:7.3f}  {:5.1f}  {}\n", t.ms, total > 0 ? 100 * t.ms / total : 0.0,
                     t.name);
  s += fmt::format("  {:7.3f}  100.0  total\n", total);
  return s;
}

}  // namespace brickc::passes
