// placeholder: to be written
#include "tools/brickc/commands.h"
namespace brickc::tools {
void add_inspect_command(CLI::App&) {}
}  // namespace brickc::tools
