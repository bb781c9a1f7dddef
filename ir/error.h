// The one error type of brickc: a message that names the file/tensor/brick, what was
// expected and what was found. Thrown by the libraries, printed by the tool.
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace brickc {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace brickc
