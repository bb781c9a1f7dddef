// The GGUF metadata of a synthetic qwen2 file: general.*, qwen2.* and tokenizer.* keys
// with the types llama.cpp's loader expects (u32 counts, f32 theta/eps, i32 token types).
#pragma once
#include <string_view>

#include "frontend/gguf/writer.h"
#include "frontend/qwen2/config.h"
#include "frontend/synth/quant_mix.h"
#include "frontend/synth/vocab.h"

namespace brickc::synth {

// Qwen2.5-Instruct's ChatML template (Jinja): the default system prompt when the first
// message is not a system message, <|im_start|>role\n...<|im_end|>\n per message.
std::string_view qwen2_chat_template();

void add_metadata(gguf::Writer& w, std::string_view model_name, const qwen2::Config& c,
                  QuantMix mix, const Vocab& v);

}  // namespace brickc::synth
