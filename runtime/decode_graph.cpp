#include "runtime/decode_graph.h"

#include "frontend/qwen2/config.h"
#include "frontend/qwen2/importer.h"
#include "ir/error.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"

namespace brickc::runtime {

ir::Graph decode_graph(const gguf::File& file, int64_t n_ctx,
                       const std::optional<std::string>& passes,
                       const std::string& device_profile, StepShape shape, CacheTypes cache) {
  const qwen2::Config c = qwen2::read_config(file);
  if (n_ctx < 1 || n_ctx > c.n_ctx_train)
    fail("{}: context length {} is out of range: the model's context_length is {}", file.path(),
         n_ctx, c.n_ctx_train);
  qwen2::ImportOptions io;
  io.max_ctx = n_ctx;
  io.n_tokens = shape.n_tokens;
  io.all_logits = shape.all_logits;
  io.n_seq = shape.n_seq;
  io.cache = cache;
  ir::Graph g = qwen2::import_qwen2(file, io);
  std::vector<const passes::PassInfo*> pipeline;
  if (passes)
    pipeline = passes::parse_pipeline(*passes);
  else
    for (auto n : passes::default_pipeline()) pipeline.push_back(passes::find_pass(n));
  passes::PassOptions po;
  po.device = device_profile;
  passes::PassManager pm(std::move(pipeline), po);
  pm.verify_each = true;
  pm.run(g);
  return g;
}

}  // namespace brickc::runtime
