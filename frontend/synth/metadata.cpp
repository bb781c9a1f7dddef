#include "frontend/synth/metadata.h"

#include <string>

namespace brickc::synth {

std::string_view qwen2_chat_template() {
  // Written from the template's documented behavior (gguf-qwen2.md §6): ChatML turns,
  // Qwen's default system prompt inserted when the conversation does not start with one.
  return R"TEMPLATE({%- if not messages or messages[0]['role'] != 'system' -%}
{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' -}}
{%- endif -%}
{%- for message in messages -%}
{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\n' -}}
{%- endif -%}
)TEMPLATE";
}

void add_metadata(gguf::Writer& w, std::string_view model_name, const qwen2::Config& c,
                  QuantMix mix, const Vocab& v) {
  using gguf::Value;
  w.add("general.architecture", Value::str("qwen2"));
  w.add("general.type", Value::str("model"));
  w.add("general.name", Value::str(std::string(model_name)));
  w.add("qwen2.block_count", Value::u32(c.n_layer));
  w.add("qwen2.context_length", Value::u32(c.n_ctx_train));
  w.add("qwen2.embedding_length", Value::u32(c.n_embd));
  w.add("qwen2.feed_forward_length", Value::u32(c.n_ff));
  w.add("qwen2.attention.head_count", Value::u32(c.n_head));
  w.add("qwen2.attention.head_count_kv", Value::u32(c.n_head_kv));
  // Real Qwen2 files leave these to the n_embd / n_head default; write them only where
  // a config departs from it.
  if (c.head_dim * c.n_head != c.n_embd) {
    w.add("qwen2.attention.key_length", Value::u32(c.head_dim));
    w.add("qwen2.attention.value_length", Value::u32(c.head_dim));
  }
  w.add("qwen2.rope.freq_base", Value::f32(c.rope_theta));
  w.add("qwen2.attention.layer_norm_rms_epsilon", Value::f32(c.rms_eps));
  w.add("general.file_type", Value::u32(llama_ftype(mix)));

  w.add("tokenizer.ggml.model", Value::str("gpt2"));
  w.add("tokenizer.ggml.pre", Value::str("qwen2"));
  w.add("tokenizer.ggml.tokens", Value::str_array(v.tokens));
  w.add("tokenizer.ggml.token_type", Value::i32_array(v.types));
  w.add("tokenizer.ggml.merges", Value::str_array(v.merges));
  w.add("tokenizer.ggml.eos_token_id", Value::u32(static_cast<uint32_t>(v.eos)));
  w.add("tokenizer.ggml.padding_token_id", Value::u32(static_cast<uint32_t>(v.pad)));
  w.add("tokenizer.ggml.bos_token_id", Value::u32(static_cast<uint32_t>(v.bos)));
  const std::pair<const char*, const std::optional<int32_t>&> fim[] = {
      {"tokenizer.ggml.fim_pre_token_id", v.fim_pre}, {"tokenizer.ggml.fim_suf_token_id", v.fim_suf},
      {"tokenizer.ggml.fim_mid_token_id", v.fim_mid}, {"tokenizer.ggml.fim_pad_token_id", v.fim_pad},
      {"tokenizer.ggml.fim_rep_token_id", v.fim_rep}, {"tokenizer.ggml.fim_sep_token_id", v.fim_sep},
  };
  for (const auto& [key, id] : fim)
    if (id) w.add(key, Value::u32(static_cast<uint32_t>(*id)));
  w.add("tokenizer.ggml.add_bos_token", Value::boolean(false));
  w.add("tokenizer.chat_template", Value::str(std::string(qwen2_chat_template())));
  w.add("general.quantization_version", Value::u32(2));
}

}  // namespace brickc::synth
