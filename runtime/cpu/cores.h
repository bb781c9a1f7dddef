// How many threads the CPU engines use by default: the physical cores this process may run
// on (llama.cpp's default too). A second hardware thread of a core shares its vector units,
// so the int8 kernels gain nothing from it and the pool's barriers wait for the slower one.
#pragma once
#include <filesystem>
#include <set>

namespace brickc::cpu {

// Cores among `cpus` (logical CPU numbers), counting CPUs whose
// sysfs_cpu/cpuN/topology/thread_siblings_list is the same as one core; 0 when any of
// those files cannot be read.
int count_cores(const std::filesystem::path& sysfs_cpu, const std::set<int>& cpus);

// count_cores over /sys/devices/system/cpu and this process's affinity mask; where that
// fails, std::thread::hardware_concurrency(); at least 1.
int physical_cores();

}  // namespace brickc::cpu
