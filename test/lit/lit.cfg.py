# lit suite for brickc: IR round trips, pass outputs, emitted PTX and error messages.
import ctypes
import os
import subprocess
import lit.formats

config.name = "brickc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".brick", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.brickc_obj_root, "test", "lit")
config.substitutions.append(("%brickc", config.brickc_bin))
config.substitutions.append(("%python", config.python))
config.substitutions.append(("%shared", config.shared_dir))
config.substitutions.append(("FileCheck", config.filecheck))
config.substitutions.append(("%ptxas", config.ptxas))
# What the PTX tests need: a ptxas that runs (not a leftover wrapper of a removed toolkit),
# NVRTC found the way brickc finds it.
def runs(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


if config.ptxas and runs([config.ptxas, "--version"]):
    config.available_features.add("ptxas")
for lib in ("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"):
    try:
        ctypes.CDLL(lib)
        config.available_features.add("nvrtc")
        break
    except OSError:
        pass
config.environment["PATH"] = os.path.dirname(config.brickc_bin) + os.pathsep + config.environment.get("PATH", "")
