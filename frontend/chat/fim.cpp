#include "frontend/chat/fim.h"

#include "ir/error.h"

namespace brickc::chat {

namespace {

void check_request(const FimRequest& r) {
  if (!r.repo && !r.files.empty())
    fail("FIM: {} context files given without a repository name: the repo-level prompt "
         "starts with <|repo_name|>{{name}}",
         r.files.size());
}

// The pieces of the prompt in order; `special` receives the index of a FIM token
// (0 prefix, 1 suffix, 2 middle, 3 repo_name, 4 file_sep), `text` a piece of text.
template <typename Special, typename Text>
void walk(const FimRequest& r, Special special, Text text) {
  check_request(r);
  if (r.repo) {
    special(3);
    text(*r.repo + "\n");
    for (const auto& f : r.files) {
      special(4);
      text(f.path + "\n");
      text(f.content);
    }
    special(4);
    text(r.path + "\n");
  }
  special(0);
  text(r.prefix);
  special(1);
  text(r.suffix);
  special(2);
}

}  // namespace

std::vector<int32_t> fim_prompt_tokens(tokenizer::Tokenizer& tok, const FimTokens& ids,
                                       const FimRequest& r) {
  if (r.repo && (!ids.repo_name || !ids.file_sep))
    fail("{}: a repo-level FIM prompt needs the <|repo_name|> and <|file_sep|> tokens; the "
         "vocabulary lacks {}",
         tok.vocab().source, !ids.repo_name ? "<|repo_name|>" : "<|file_sep|>");
  std::vector<int32_t> out;
  walk(
      r,
      [&](int which) {
        const int32_t id[] = {ids.prefix, ids.suffix, ids.middle, ids.repo_name.value_or(-1),
                              ids.file_sep.value_or(-1)};
        out.push_back(id[which]);
      },
      [&](const std::string& piece) {
        const auto t = tok.encode(piece, /*parse_special=*/false);
        out.insert(out.end(), t.begin(), t.end());
      });
  return out;
}

std::string fim_prompt_text(const FimRequest& r) {
  static constexpr const char* kText[] = {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
                                          "<|repo_name|>", "<|file_sep|>"};
  std::string out;
  walk(r, [&](int which) { out += kText[which]; }, [&](const std::string& piece) { out += piece; });
  return out;
}

}  // namespace brickc::chat
