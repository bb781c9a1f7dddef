// Runs passes in order over a graph: prints the IR after chosen passes, verifies after
// each pass (always in debug builds, else with verify_each), and times each pass.
#pragma once
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "passes/pass.h"

namespace brickc::passes {

struct PassTiming {
  std::string_view name;
  double ms;
};

class PassManager {
 public:
  explicit PassManager(std::vector<const PassInfo*> pipeline, PassOptions opts = {})
      : pipeline_(std::move(pipeline)), opts_(std::move(opts)) {}

  bool print_after_all = false;
  std::set<std::string, std::less<>> print_after;  // pass names
  bool verify_each = false;
  // Where the IR printed after a pass goes (stdout in the tool).
  std::function<void(std::string_view)> sink;

  // Fails (brickc::Error) if a verification after a pass finds problems, naming the pass.
  void run(ir::Graph& g);
  const std::vector<PassTiming>& timings() const { return timings_; }
  // Table of per-pass wall time, with the total: the --time-passes report.
  std::string timing_report() const;

 private:
  std::vector<const PassInfo*> pipeline_;
  PassOptions opts_;
  std::vector<PassTiming> timings_;
};

}  // namespace brickc::passes
