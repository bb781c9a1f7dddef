#include "runtime/cpu/cores.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>

namespace brickc::cpu {

int count_cores(const std::filesystem::path& sysfs_cpu, const std::set<int>& cpus) {
  std::set<std::string> cores;  // one sibling list per core, as the kernel prints it
  for (int c : cpus) {
    std::ifstream f(sysfs_cpu / ("cpu" + std::to_string(c)) / "topology" / "thread_siblings_list");
    std::string siblings;
    if (!std::getline(f, siblings) || siblings.empty()) return 0;
    cores.insert(siblings);
  }
  return static_cast<int>(cores.size());
}

int physical_cores() {
  static const int n = [] {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    std::set<int> cpus;
    if (sched_getaffinity(0, sizeof mask, &mask) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &mask)) cpus.insert(c);
    const int cores = cpus.empty() ? 0 : count_cores("/sys/devices/system/cpu", cpus);
    return std::max(1, cores > 0 ? cores : static_cast<int>(std::thread::hardware_concurrency()));
  }();
  return n;
}

}  // namespace brickc::cpu
