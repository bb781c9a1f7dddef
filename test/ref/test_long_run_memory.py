"""A long generation keeps host memory flat and ends cleanly at a full context.

`brickc run` (in ctest: on the CPU, its default int8 engine, a small synthetic model)
generates from a 3-token prompt with a 10,240-position context, in token mode (no
end-of-generation token), so it runs until the context is full: 10,238 tokens (every
position holds a prompt or a generated token, and the last one sampled needs no position),
then "stop: context full", status 0. Its resident set is read from /proc every 20 ms. Every
buffer (the KV cache included) is allocated and zeroed before the first token, so after a
warm-up (the first tenth of the run) the RSS may not grow: the bound, 4 MiB over ~9,000
tokens, fails a leak of 500 bytes per token. With --device cuda (the GPU machine:
--model qwen2.5-coder-0.5b) the process's GPU memory (nvidia-smi) is sampled too and may not
grow at all after the warm-up; --json writes the figures.
"""
import argparse
import json
import os
import subprocess
import sys
import time

BRICKC = os.environ["BRICKC"]
WORK = os.path.join(os.environ.get("BRICKC_WORK", "/tmp/brickc-ref"), "long_run_memory")
N_CTX = 10240
PROMPT = [1, 2, 3]
GROWTH_BOUND = 4 << 20


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def gpu_bytes(pid):
    """The process's GPU memory as nvidia-smi reports it, or None before it has a context."""
    out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                          "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) == 2 and fields[0] == str(pid):
            return int(fields[1]) << 20
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default="test-tiny", help="brickc synth preset")
    ap.add_argument("--json", help="write the run's figures here")
    args = ap.parse_args()
    cuda = args.device == "cuda"
    os.makedirs(WORK, exist_ok=True)
    model = os.path.join(WORK, f"{args.model}.gguf")
    subprocess.run([BRICKC, "synth", "--model", args.model, "--quant", "q4_k_m", "-o", model],
                   check=True, stdout=subprocess.DEVNULL)
    # The text goes to files: a pipe nobody reads until the end would fill (64 KiB) and
    # stall the run.
    out_path, err_path = os.path.join(WORK, "stdout.txt"), os.path.join(WORK, "stderr.txt")
    with open(out_path, "w") as out_f, open(err_path, "w") as err_f:
        p = subprocess.Popen([BRICKC, "run", "-m", model, "--device", args.device]
                             + ([] if cuda else ["-t", "2"])
                             + ["-c", str(N_CTX), "-n", "-1",
                                "--prompt-tokens", ",".join(map(str, PROMPT))],
                             stdout=out_f, stderr=err_f, text=True)
    samples = []  # (seconds, rss)
    gpu_samples = []  # (seconds, GPU bytes)
    t0 = time.monotonic()
    last_gpu = -1.0
    while p.poll() is None:
        now = time.monotonic() - t0
        r = rss_bytes(p.pid)
        if r is not None:
            samples.append((now, r))
        if cuda and now - last_gpu >= 0.1:
            g = gpu_bytes(p.pid)
            if g is not None:
                gpu_samples.append((now, g))
            last_gpu = now
        time.sleep(0.02)
    total = time.monotonic() - t0
    with open(out_path) as f:
        out = f.read()
    with open(err_path) as f:
        err = f.read()
    if p.returncode != 0:
        print(f"FAIL: brickc run exited {p.returncode}:\n{err}")
        sys.exit(1)
    summary = err.strip().splitlines()[-1]
    print(summary)
    n_generated = len(out.split())
    failures = []
    if "stop: context full" not in summary:
        failures.append(f"the run did not end at the full context: {summary!r}")
    if n_generated != N_CTX - len(PROMPT) + 1:
        failures.append(f"{n_generated} tokens generated, expected {N_CTX - len(PROMPT) + 1}")

    def steady_phase(timed):
        """Samples of the decode phase: after the warm-up tenth, before the process tears down."""
        return [v for s, v in timed if 0.1 * total <= s <= 0.98 * total]

    steady = steady_phase(samples)
    if len(steady) < 20:
        failures.append(f"only {len(steady)} RSS samples in the steady phase of a {total:.1f} s run")
    else:
        growth = max(steady) - steady[0]
        print(f"{n_generated} tokens in {total:.1f} s; RSS after warm-up {steady[0] / 2**20:.1f} "
              f"MiB, peak {max(steady) / 2**20:.1f} MiB: growth {growth / 2**20:.2f} MiB over "
              f"{len(steady)} samples (bound {GROWTH_BOUND / 2**20:.0f} MiB)")
        if growth > GROWTH_BOUND:
            failures.append(f"RSS grew {growth / 2**20:.2f} MiB after warm-up")
    report = {"device": args.device, "model": args.model, "n_ctx": N_CTX, "generated": n_generated,
              "seconds": total, "summary": summary,
              "rss_mib": [[round(t, 3), r / 2**20] for t, r in samples]}
    if cuda:
        gpu_steady = steady_phase(gpu_samples)
        if len(gpu_steady) < 5:
            failures.append(f"only {len(gpu_steady)} GPU memory samples in the steady phase")
        else:
            print(f"GPU memory after warm-up {gpu_steady[0] / 2**20:.0f} MiB, peak "
                  f"{max(gpu_steady) / 2**20:.0f} MiB over {len(gpu_steady)} samples (bound: no growth)")
            if max(gpu_steady) > gpu_steady[0]:
                failures.append(f"GPU memory grew {(max(gpu_steady) - gpu_steady[0]) / 2**20:.0f} MiB")
        report["gpu_mib"] = [[round(t, 3), g / 2**20] for t, g in gpu_samples]
    report["failures"] = failures
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f)
    os.remove(model)
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
