// The chat page `brickc serve` answers GET / with: runtime/serve/chat_page.html, compiled
// into the binary (CMake writes it into a raw string), so the server needs no files.
#pragma once
#include <string_view>

namespace brickc::serve {

std::string_view chat_page();

}  // namespace brickc::serve
