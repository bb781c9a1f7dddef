// placeholder: to be written
#include "tools/brickc/commands.h"
namespace brickc::tools {
void add_run_command(CLI::App&) {}
}  // namespace brickc::tools
