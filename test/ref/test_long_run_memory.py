"""A long generation keeps host memory flat and ends cleanly at a full context.

`brickc run` on the CPU (its default int8 engine) generates from a 3-token prompt on a
small synthetic model with a 10,240-position context, in token mode (no end-of-generation
token), so it runs until the context is full: 10,238 tokens (every position holds a prompt or a
generated token, and the last one sampled needs no position), then "stop: context full",
status 0. Its resident set is read from /proc every 20 ms. Every buffer (the KV cache
included) is allocated and zeroed before the first token, so after a warm-up (the first
tenth of the run) the RSS may not grow: the bound, 4 MiB over ~9,000 tokens, fails a leak of
500 bytes per token.
"""
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


def main():
    os.makedirs(WORK, exist_ok=True)
    model = os.path.join(WORK, "tiny.gguf")
    subprocess.run([BRICKC, "synth", "--model", "test-tiny", "--quant", "q4_k_m", "-o", model],
                   check=True, stdout=subprocess.DEVNULL)
    p = subprocess.Popen([BRICKC, "run", "-m", model, "--device", "cpu", "-t", "2", "-c",
                          str(N_CTX), "-n", "-1", "--prompt-tokens", ",".join(map(str, PROMPT))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []  # (seconds, rss)
    t0 = time.monotonic()
    while p.poll() is None:
        r = rss_bytes(p.pid)
        if r is not None:
            samples.append((time.monotonic() - t0, r))
        time.sleep(0.02)
    out, err = p.communicate()
    total = time.monotonic() - t0
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
    # Samples of the decode phase: after the warm-up tenth, before the process tears down.
    steady = [r for s, r in samples if 0.1 * total <= s <= 0.98 * total]
    if len(steady) < 20:
        failures.append(f"only {len(steady)} RSS samples in the steady phase of a {total:.1f} s run")
    else:
        growth = max(steady) - steady[0]
        print(f"{n_generated} tokens in {total:.1f} s; RSS after warm-up {steady[0] / 2**20:.1f} "
              f"MiB, peak {max(steady) / 2**20:.1f} MiB: growth {growth / 2**20:.2f} MiB over "
              f"{len(steady)} samples (bound {GROWTH_BOUND / 2**20:.0f} MiB)")
        if growth > GROWTH_BOUND:
            failures.append(f"RSS grew {growth / 2**20:.2f} MiB after warm-up")
    os.remove(model)
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
