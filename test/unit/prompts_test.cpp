// frontend/chat: ChatML rendering against the format written out here, template detection
// and its errors, FIM prompts on a byte vocabulary (one token per byte, so the expected
// ids follow from the text), FIM ids from GGUF keys and by text, the EOG set.
// Agreement with the Jinja template and llama.cpp is test/ref/test_chat_template.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "frontend/chat/chatml.h"
#include "frontend/chat/fim.h"
#include "frontend/chat/special_tokens.h"
#include "frontend/gguf/reader.h"
#include "frontend/gguf/writer.h"
#include "frontend/synth/metadata.h"
#include "frontend/tokenizer/byte_map.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"

namespace ch = brickc::chat;
namespace tk = brickc::tokenizer;

namespace {

std::string turn(const std::string& role, const std::string& content) {
  return "<|im_start|>" + role + "\n" + content + "<|im_end|>\n";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const brickc::Error& e) {
    return e.what();
  }
  return "";
}

const std::vector<std::string> kSpecials = {"<|endoftext|>", "<|im_start|>",  "<|im_end|>",
                                            "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                                            "<|fim_pad|>",   "<|repo_name|>", "<|file_sep|>"};

// Ids 0..255 are the bytes; the given special tokens follow from id 256 in order.
tk::Vocab byte_vocab(const std::vector<std::string>& specials = kSpecials) {
  tk::Vocab v;
  v.source = "test-vocab";
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(tk::byte_to_utf8(static_cast<uint8_t>(b)));
    v.types.push_back(tk::TokenType::Normal);
  }
  for (const auto& s : specials) {
    v.tokens.push_back(s);
    v.types.push_back(tk::TokenType::Control);
  }
  return v;
}

int32_t id_of(const std::string& special) {
  return 256 + static_cast<int32_t>(std::find(kSpecials.begin(), kSpecials.end(), special) -
                                    kSpecials.begin());
}

void append_bytes(std::vector<int32_t>& out, const std::string& s) {
  for (unsigned char c : s) out.push_back(c);
}

}  // namespace

TEST(ChatML, QwenTemplateInsertsTheDefaultSystemPrompt) {
  const auto t = ch::ChatTemplate::from_text(brickc::synth::qwen2_chat_template(), "synth");
  ASSERT_TRUE(t.default_system());
  EXPECT_EQ(*t.default_system(), ch::kQwenDefaultSystem);
  const std::vector<ch::Message> user = {{"user", "Write quicksort."}};
  EXPECT_EQ(t.render(user), turn("system", std::string(ch::kQwenDefaultSystem)) +
                                turn("user", "Write quicksort.") + "<|im_start|>assistant\n");
  const std::vector<ch::Message> multi = {{"system", "Be brief."},
                                          {"user", "a"},
                                          {"assistant", "b\nc"},
                                          {"user", ""}};
  EXPECT_EQ(t.render(multi, false),
            turn("system", "Be brief.") + turn("user", "a") + turn("assistant", "b\nc") + turn("user", ""));
  EXPECT_EQ(t.render({}), turn("system", std::string(ch::kQwenDefaultSystem)) + "<|im_start|>assistant\n");
}

TEST(ChatML, TemplateWithoutADefaultInsertsNone) {
  // llama.cpp's built-in ChatML: the same turns, no system prompt of its own.
  const auto t = ch::ChatTemplate::from_text(
      "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + "
      "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
      "{{'<|im_start|>assistant\\n'}}{% endif %}",
      "builtin");
  EXPECT_FALSE(t.default_system());
  const std::vector<ch::Message> m = {{"user", "hi"}};
  EXPECT_EQ(t.render(m), turn("user", "hi") + "<|im_start|>assistant\n");
}

TEST(ChatML, RefusesOtherTemplatesAndRoles) {
  const std::string llama3 =
      "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
      "{{ m['content'] }}<|eot_id|>{% endfor %}";
  const std::string err = error_of([&] { ch::ChatTemplate::from_text(llama3, "m.gguf"); });
  EXPECT_NE(err.find("m.gguf: tokenizer.chat_template is not ChatML"), std::string::npos) << err;
  EXPECT_NE(err.find("<|start_header_id|>"), std::string::npos) << err;  // what was found
  const auto t = ch::ChatTemplate::from_text(brickc::synth::qwen2_chat_template(), "synth");
  const std::vector<ch::Message> tool = {{"tool", "{}"}};
  EXPECT_NE(error_of([&] { t.render(tool); }).find("role 'tool'"), std::string::npos);
}

TEST(ChatML, FromGgufNamesTheFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("brickc_prompts_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::vector<std::string>& specials,
                   const char* tmpl, bool fim_keys) {
    const std::string path = (dir / name).string();
    brickc::gguf::Writer w(path);
    using brickc::gguf::Value;
    const tk::Vocab v = byte_vocab(specials);
    std::vector<int32_t> types;
    for (auto t : v.types) types.push_back(static_cast<int32_t>(t));
    w.add("general.architecture", Value::str("qwen2"));
    w.add("tokenizer.ggml.model", Value::str("gpt2"));
    w.add("tokenizer.ggml.pre", Value::str("qwen2"));
    w.add("tokenizer.ggml.tokens", Value::str_array(v.tokens));
    w.add("tokenizer.ggml.token_type", Value::i32_array(types));
    w.add("tokenizer.ggml.merges", Value::str_array(std::vector<std::string>{}));
    if (fim_keys) {  // keys that disagree with the texts: the keys win
      w.add("tokenizer.ggml.fim_pre_token_id", Value::u32(65));
      w.add("tokenizer.ggml.fim_suf_token_id", Value::u32(66));
      w.add("tokenizer.ggml.fim_mid_token_id", Value::u32(67));
    }
    if (tmpl) w.add("tokenizer.chat_template", Value::str(tmpl));
    w.finish();
    return path;
  };
  auto load = [](const std::string& path) {
    auto f = brickc::gguf::File::open(path);
    const auto v = tk::Vocab::from_gguf(*f);
    ch::ChatTemplate::from_gguf(*f, v);
  };
  const std::string none = write("none.gguf", kSpecials, nullptr, false);
  std::string err = error_of([&] { load(none); });
  EXPECT_NE(err.find(none + ": has no tokenizer.chat_template"), std::string::npos) << err;
  const std::string no_tokens =
      write("notok.gguf", {"<|endoftext|>"}, brickc::synth::qwen2_chat_template().data(), false);
  err = error_of([&] { load(no_tokens); });
  EXPECT_NE(err.find("has no '<|im_start|>' token"), std::string::npos) << err;
  EXPECT_EQ(error_of([&] { load(write("ok.gguf", kSpecials, brickc::synth::qwen2_chat_template().data(), false)); }), "");

  auto f = brickc::gguf::File::open(write("keys.gguf", kSpecials, nullptr, true));
  const auto fim = ch::FimTokens::from_gguf(*f, tk::Vocab::from_gguf(*f));
  EXPECT_EQ(fim.prefix, 65);
  EXPECT_EQ(fim.suffix, 66);
  EXPECT_EQ(fim.middle, 67);
  EXPECT_EQ(fim.file_sep, id_of("<|file_sep|>"));  // no key: by text
  fs::remove_all(dir);
}

TEST(Fim, FileLevelPrompt) {
  tk::Tokenizer tok(byte_vocab());
  const auto ids = ch::FimTokens::from_vocab(tok.vocab());
  ch::FimRequest r;
  r.prefix = "def f(x):\n    return ";
  r.suffix = "\n\nprint(f(2))\n";
  EXPECT_EQ(ch::fim_prompt_text(r), "<|fim_prefix|>" + r.prefix + "<|fim_suffix|>" + r.suffix + "<|fim_middle|>");
  std::vector<int32_t> want = {id_of("<|fim_prefix|>")};
  append_bytes(want, r.prefix);
  want.push_back(id_of("<|fim_suffix|>"));
  append_bytes(want, r.suffix);
  want.push_back(id_of("<|fim_middle|>"));
  EXPECT_EQ(ch::fim_prompt_tokens(tok, ids, r), want);
  // Special-token text inside the code stays text.
  r.prefix = "s = '<|fim_middle|>'";
  const auto t = ch::fim_prompt_tokens(tok, ids, r);
  EXPECT_EQ(std::count(t.begin(), t.end(), id_of("<|fim_middle|>")), 1);
}

TEST(Fim, RepoLevelPrompt) {
  tk::Tokenizer tok(byte_vocab());
  const auto ids = ch::FimTokens::from_vocab(tok.vocab());
  ch::FimRequest r;
  r.repo = "myproject";
  r.files = {{"a.py", "x = 1\n"}, {"b.py", "y = 2\n"}};
  r.path = "c.py";
  r.prefix = "import a\n";
  r.suffix = "\n";
  EXPECT_EQ(ch::fim_prompt_text(r),
            "<|repo_name|>myproject\n<|file_sep|>a.py\nx = 1\n<|file_sep|>b.py\ny = 2\n"
            "<|file_sep|>c.py\n<|fim_prefix|>import a\n<|fim_suffix|>\n<|fim_middle|>");
  std::vector<int32_t> want = {id_of("<|repo_name|>")};
  append_bytes(want, "myproject\n");
  for (const auto& f : r.files) {
    want.push_back(id_of("<|file_sep|>"));
    append_bytes(want, f.path + "\n" + f.content);
  }
  want.push_back(id_of("<|file_sep|>"));
  append_bytes(want, "c.py\n");
  want.push_back(id_of("<|fim_prefix|>"));
  append_bytes(want, r.prefix);
  want.push_back(id_of("<|fim_suffix|>"));
  append_bytes(want, r.suffix);
  want.push_back(id_of("<|fim_middle|>"));
  EXPECT_EQ(ch::fim_prompt_tokens(tok, ids, r), want);

  r.repo.reset();
  EXPECT_NE(error_of([&] { ch::fim_prompt_text(r); }).find("without a repository name"),
            std::string::npos);
}

TEST(Fim, MissingTokensAreNamed) {
  tk::Tokenizer tok(byte_vocab({"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"}));
  const auto ids = ch::FimTokens::from_vocab(tok.vocab());
  EXPECT_FALSE(ids.repo_name);
  ch::FimRequest r;
  r.repo = "p";
  EXPECT_NE(error_of([&] { ch::fim_prompt_tokens(tok, ids, r); }).find("lacks <|repo_name|>"),
            std::string::npos);
  const std::string err = error_of([] { ch::FimTokens::from_vocab(byte_vocab({"<|fim_prefix|>"})); });
  EXPECT_NE(err.find("test-vocab: no FIM token '<|fim_suffix|>'"), std::string::npos) << err;
}

TEST(Eog, EosAndTheEndTokens) {
  tk::Vocab v = byte_vocab();
  v.eos = id_of("<|endoftext|>");
  const std::vector<int32_t> want = {id_of("<|endoftext|>"), id_of("<|im_end|>"),
                                     id_of("<|fim_pad|>"), id_of("<|repo_name|>"),
                                     id_of("<|file_sep|>")};
  EXPECT_EQ(ch::eog_tokens(v), want);
  tk::Vocab small = byte_vocab({"<|im_end|>"});
  small.eos = 10;
  EXPECT_EQ(ch::eog_tokens(small), (std::vector<int32_t>{10, 256}));
}
