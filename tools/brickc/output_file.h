// Result files the commands write (--json, --plot): checked before a long run, written
// whole or not at all.
#pragma once
#include <string>

namespace brickc::tools {

// Writes `text` through a temporary file and a rename, so that an interrupted run never
// leaves a truncated result where a good one was. `flag` names the option in messages.
void write_file(const std::string& path, const std::string& flag, const std::string& text);

// Error unless the directory of `path` is writable: checked before the work, not after it.
void check_writable(const std::string& path, const std::string& flag);

}  // namespace brickc::tools
