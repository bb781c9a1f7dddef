#include "tools/brickc/output_file.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "ir/error.h"

namespace brickc::tools {

void write_file(const std::string& path, const std::string& flag, const std::string& text) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("{}: cannot create '{}' (for '{}'): {}", flag, tmp, path, std::strerror(errno));
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      fail("{}: cannot write '{}'", flag, tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    fail("{}: cannot rename '{}' to '{}': {}", flag, tmp, path, why);
  }
}

void check_writable(const std::string& path, const std::string& flag) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (::access(dir.c_str(), W_OK) != 0)
    fail("{}: cannot write into '{}': {}", flag, dir, std::strerror(errno));
}

}  // namespace brickc::tools
