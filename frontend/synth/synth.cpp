#include "frontend/synth/synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "frontend/gguf/writer.h"
#include "frontend/quant/quant.h"
#include "frontend/synth/metadata.h"
#include "frontend/synth/presets.h"
#include "frontend/synth/vocab.h"
#include "frontend/synth/weights.h"
#include "ir/error.h"

namespace brickc::synth {
namespace {

// Tensors are generated in chunks of whole rows, about this many values each. The chunk
// index seeds the random stream, so changing this changes every synthetic file.
constexpr int64_t kChunkValues = int64_t{1} << 20;

struct Chunk {
  size_t tensor;
  uint64_t index;  // within the tensor
  int64_t rows;
};

std::vector<Chunk> chunks_of(const std::vector<TensorSpec>& tensors) {
  std::vector<Chunk> chunks;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const int64_t rows = tensors[t].n_rows();
    const int64_t per_chunk = std::max<int64_t>(1, kChunkValues / tensors[t].ne[0]);
    uint64_t index = 0;
    for (int64_t r = 0; r < rows; r += per_chunk)
      chunks.push_back({t, index++, std::min(per_chunk, rows - r)});
  }
  return chunks;
}

uint64_t row_size(const TensorSpec& t) {
  auto b = row_bytes(t.type, static_cast<uint64_t>(t.ne[0]));
  if (!b) fail("internal: tensor {} row of {} does not fit type {}", t.name, t.ne[0], name(t.type));
  return *b;
}

// Workers take chunks in file order and fill a ring of `window` output slots; the
// calling thread writes the slots in order. A worker may run at most `window` chunks
// ahead of the writer, which bounds memory to a few chunks per thread.
void stream_tensors(const Plan& plan, uint64_t seed, unsigned n_threads, gguf::Writer& w,
                    const Progress& progress) {
  const std::vector<Chunk> chunks = chunks_of(plan.tensors);
  std::vector<WeightInit> inits;
  uint64_t total = 0;
  for (const auto& t : plan.tensors) {
    inits.push_back(weight_init(t.name, plan.config));
    total += row_size(t) * static_cast<uint64_t>(t.n_rows());
  }

  const size_t window = 2 * size_t{n_threads};
  std::vector<std::vector<uint8_t>> slots(window);
  std::vector<char> ready(window, 0);
  std::mutex mu;
  std::condition_variable cv_ready, cv_free;
  size_t next = 0, written = 0;
  bool stop = false;
  std::exception_ptr error;

  auto worker = [&] {
    std::vector<float> values;
    for (;;) {
      size_t g;
      {
        std::unique_lock lk(mu);
        cv_free.wait(lk, [&] { return stop || next >= chunks.size() || next < written + window; });
        if (stop || next >= chunks.size()) return;
        g = next++;
      }
      try {
        const Chunk& c = chunks[g];
        const TensorSpec& t = plan.tensors[c.tensor];
        const size_t n = static_cast<size_t>(c.rows * t.ne[0]);
        values.resize(n);
        fill_weights(seed, t.name, c.index, inits[c.tensor], values.data(), n);
        // Slot g % window is this worker's alone until it is marked ready.
        auto& out = slots[g % window];
        out.resize(row_size(t) * static_cast<uint64_t>(c.rows));
        quant::quantize(t.type, values.data(), out.data(), static_cast<int64_t>(n));
      } catch (...) {
        std::lock_guard lk(mu);
        if (!error) error = std::current_exception();
        stop = true;
        cv_ready.notify_all();
        cv_free.notify_all();
        return;
      }
      {
        std::lock_guard lk(mu);
        ready[g % window] = 1;
      }
      cv_ready.notify_all();
    }
  };

  std::vector<std::thread> pool;
  auto join_all = [&] {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    cv_free.notify_all();
    for (auto& th : pool) th.join();
    pool.clear();
  };
  try {
    for (unsigned i = 0; i < n_threads; ++i) pool.emplace_back(worker);
    uint64_t done = 0;
    for (size_t g = 0; g < chunks.size(); ++g) {
      {
        std::unique_lock lk(mu);
        cv_ready.wait(lk, [&] { return ready[g % window] || error; });
        if (error) std::rethrow_exception(error);
      }
      const Chunk& c = chunks[g];
      if (c.index == 0) w.begin_tensor(plan.tensors[c.tensor].name);
      const auto& bytes = slots[g % window];
      w.write(bytes);
      done += bytes.size();
      {
        std::lock_guard lk(mu);
        ready[g % window] = 0;
        written = g + 1;
      }
      cv_free.notify_all();
      if (progress) progress(done, total);
    }
  } catch (...) {
    join_all();
    throw;
  }
  join_all();
}

}  // namespace

Plan make_plan(const Options& o) {
  const Preset& p = find_preset(o.model);
  Plan plan;
  plan.model_name = std::string(p.name);
  plan.config = p.config;
  if (o.layers) {
    if (*o.layers == 0) fail("--layers must be at least 1");
    plan.config.n_layer = *o.layers;
  }
  if (o.vocab_size) {
    if (*o.vocab_size == 0) fail("--vocab-size must be at least 1");
    plan.config.n_vocab = *o.vocab_size;
  } else if (o.vocab_path.empty()) {
    plan.config.n_vocab = p.n_vocab_generated;
  }
  plan.tensors = qwen2_tensors(plan.config);
  // n = the layers actually written: a truncated model is quantized as llama.cpp would
  // quantize that truncated model.
  assign_types(plan.tensors, o.mix, static_cast<int>(plan.config.n_layer));
  return plan;
}

Summary synthesize(const Options& o, const std::string& out_path, const Progress& progress) {
  Summary s{make_plan(o)};
  const qwen2::Config& c = s.plan.config;
  const Vocab vocab =
      o.vocab_path.empty() ? generate_vocab(c.n_vocab) : load_hf_vocab(o.vocab_path, c.n_vocab);
  const unsigned threads =
      o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());

  gguf::Writer w(out_path);
  add_metadata(w, fmt::format("{} (brickc synth, seed {})", s.plan.model_name, o.seed), c,
               o.mix, vocab);
  for (const auto& t : s.plan.tensors) w.add_tensor(t.name, t.ne, t.type);
  s.tensor_bytes = w.data_bytes();
  stream_tensors(s.plan, o.seed, threads, w, progress);
  w.finish();
  return s;
}

}  // namespace brickc::synth
