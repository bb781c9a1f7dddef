// `brickc tokenize`: prints the tokens of a text the way llama.cpp's llama-tokenize does
// ("%6d -> 'piece'" per token, or --ids as a Python list), to compare the two directly.
#include <fmt/core.h>

#include <cstdio>
#include <string>
#include <vector>

#include "frontend/gguf/reader.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"
#include "tools/brickc/commands.h"
#include "tools/brickc/generation_flags.h"

namespace brickc::tools {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string prompt;
  std::string file;
  bool ids = false;
  bool no_parse_special = false;
  bool lines = false;
  bool decode = false;
};

void print_tokens(const tokenizer::Tokenizer& tok, const std::vector<int32_t>& ids,
                  const TokenizeOptions& o, std::string& out) {
  if (o.decode) {
    out += tok.decode(ids, /*special=*/true);
    return;
  }
  if (o.ids) {
    out += '[';
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(ids[i]);
    }
    out += "]\n";
    return;
  }
  // Pieces are printed as raw bytes, as llama-tokenize does: a piece may be part of a
  // UTF-8 character. Control tokens are shown (llama-tokenize renders with special=true).
  for (int32_t id : ids) out += fmt::format("{:6} -> '{}'\n", id, tok.token_to_piece(id, true));
}

void tokenize(const TokenizeOptions& o) {
  const std::string text = o.file.empty() ? o.prompt : read_prompt_file(o.file);
  auto model = gguf::File::open(o.model);
  auto tok = tokenizer::Tokenizer::from_gguf(*model);
  const bool parse_special = !o.no_parse_special;

  std::string out;
  if (!o.lines) {
    print_tokens(tok, tok.encode(text, parse_special), o, out);
  } else {
    // One result per '\n'-terminated line, without the '\n'; a final line without one
    // counts too.
    size_t start = 0;
    bool first = true;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (!first && !o.ids) out += '\n';
      first = false;
      print_tokens(tok, tok.encode(std::string_view(text).substr(start, end - start), parse_special),
                   o, out);
      start = end + 1;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text (like llama-tokenize)");
  auto o = std::make_shared<TokenizeOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model file (its tokenizer.ggml.* metadata)")
      ->required();
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "Text to tokenize");
  auto* f = cmd->add_option("-f,--file", o->file, "File whose bytes to tokenize");
  p->excludes(f);
  cmd->add_flag("--ids", o->ids, "Print only the ids, as a list: [1, 2, 3]");
  cmd->add_flag("--no-parse-special", o->no_parse_special,
                "Do not turn control-token texts into control tokens");
  cmd->add_flag("--lines", o->lines,
                "Tokenize each line of the text separately (without its newline)");
  cmd->add_flag("--decode", o->decode,
                "Print the text the tokens decode to (control tokens included) instead of "
                "the tokens: the round trip");
  cmd->callback([o, p, f] {
    if (p->count() + f->count() != 1)
      fail("tokenize: give the text with exactly one of -p/--prompt or -f/--file");
    tokenize(*o);
  });
}

}  // namespace brickc::tools
