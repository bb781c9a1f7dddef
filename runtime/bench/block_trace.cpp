#include "runtime/bench/block_trace.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ir/brick.h"
#include "ir/graph.h"
#include "runtime/cuda/trace_span.h"

namespace brickc::bench {

std::string block_trace_json(const ir::Graph& g, std::span<const LaunchStamps> launches) {
  constexpr size_t kSlots = cuda::kTraceSlots;
  uint64_t t0 = UINT64_MAX;
  for (const LaunchStamps& l : launches)
    for (size_t b = 0; b + kSlots <= l.slots.size(); b += kSlots)
      if (cuda::block_ran(&l.slots[b])) t0 = std::min(t0, l.slots[b]);
  nlohmann::ordered_json out = {{"schema", "brickc-trace-blocks/1"}};
  nlohmann::ordered_json js = nlohmann::ordered_json::array();
  for (const LaunchStamps& l : launches) {
    const ir::Brick& br = g.bricks().at(l.brick);
    nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
    for (size_t b = 0; b + kSlots <= l.slots.size(); b += kSlots) {
      const uint64_t* s = &l.slots[b];
      if (!cuda::block_ran(s)) {
        blocks.push_back(nullptr);
        continue;
      }
      blocks.push_back({s[0] - t0, s[1] - t0, s[2] - t0, s[3] - t0, s[4]});
    }
    js.push_back({{"brick", l.brick},
                  {"kind", std::string(ir::keyword(br.kind))},
                  {"value", br.results.empty() ? "" : g.value(br.results[0]).name},
                  {"kernel", l.kernel},
                  {"blocks", std::move(blocks)}});
  }
  out["launches"] = std::move(js);
  return out.dump() + "\n";  // compact: a model step has tens of thousands of blocks
}

}  // namespace brickc::bench
