"""brickc synth streams: tensors are generated, quantized and written in row chunks, so the
process's peak resident memory stays far below the size of the file it writes (the 32B
model is ~20 GB). Measured with getrusage on a mid-sized file (1.5B shapes, 4 layers)."""
import os
import resource
import subprocess
import sys
import time

import gguf

BRICKC = os.environ["BRICKC"]
WORK = os.environ.get("BRICKC_WORK", "/tmp/brickc-ref")
os.makedirs(WORK, exist_ok=True)

path = os.path.join(WORK, "synth_streaming.gguf")
start = time.monotonic()
subprocess.run([BRICKC, "synth", "--model", "qwen2.5-coder-1.5b", "--quant", "q8_0", "--layers", "4",
                "-t", "2", "-o", path], check=True, stdout=subprocess.DEVNULL)
seconds = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux: KiB
size = os.path.getsize(path)

r = gguf.GGUFReader(path)  # the whole file is there and well-formed
data_bytes = sum(int(t.n_bytes) for t in r.tensors)
last = r.tensors[-1]
print(f"wrote {size / 2**20:.1f} MiB ({len(r.tensors)} tensors, {data_bytes / 2**20:.1f} MiB of data) "
      f"in {seconds:.1f} s; peak RSS {peak / 2**20:.1f} MiB = {peak / size:.2f} of the file")
os.remove(path)

failures = []
if data_bytes < 400 * 2**20:
    failures.append(f"file smaller than planned: {data_bytes} bytes of tensor data")
if peak > size / 4:
    failures.append(f"peak RSS {peak} is more than a quarter of the {size}-byte file: not streaming")
if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("PASS")
