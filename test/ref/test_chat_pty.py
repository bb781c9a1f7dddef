#!/usr/bin/env python3
"""`brickc chat` driven as a user would, on a `brickc synth --vocab` GGUF (random seed)
with the real Qwen2.5 vocabulary, greedy (--temp 0), random questions.

- Piped stdin (no TTY): two lines give two answers. The first must equal `brickc run -p`
  on the ChatML prompt built here by hand (a second path through prompt and tokenizer).
  The second checks that the KV cache kept the conversation: its reference is computed
  token by token with `brickc run --prompt-tokens` on ids from the Hugging Face
  `tokenizers` library (prompt 1 + answer 1 + the new ChatML text), the answer decoded by
  that library too.
- A pseudo-terminal (pty.fork: the child has a controlling terminal): the "> " prompt
  comes back after each answer, /reset followed by the same question gives the same
  answer, Ctrl-D exits with status 0. In a second session a long answer is interrupted
  with Ctrl-C (the \\x03 byte, turned into SIGINT by the terminal): the answer stops, the
  prompt returns, and Ctrl-C at the prompt exits with status 0.
Every wait is bounded (select with a deadline); a stuck child is killed.
"""
import os
import pty
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tokenizers import Tokenizer

BRICKC = os.environ["BRICKC"]
WORK = Path(os.environ["BRICKC_WORK"]) / "chat_pty"
SHARED = Path(os.environ["BRICKC_SHARED"])
VOCAB = SHARED / "data" / "qwen2.5-tokenizer.json"
N = 8  # tokens per answer
SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
EOG_TEXTS = ["<|endoftext|>", "<|im_end|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"]
STATS = re.compile(rb"\[prompt (\d+) tokens, generated (\d+) tokens \(([^)]*)\), "
                   rb"context (\d+)/\d+[^\]]*\]\r?\n")

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL:", msg)


def run(args, **kw):
    r = subprocess.run([BRICKC, *args], capture_output=True, timeout=300, **kw)
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace")
        sys.exit(f"FAIL: brickc {' '.join(args[:2])} exited {r.returncode}: {err}")
    return r


def question(rng):
    words = ["sort", "a", "list", "in", "python", "why", "does", "rust", "borrow", "check",
             "write", "fizzbuzz", "explain", "monads", "quickly", "what", "is", "a", "closure"]
    return " ".join(rng.choice(words) for _ in range(rng.randint(2, 6))) + "?"


def chatml(messages):
    s = "" if messages[0][0] == "system" else f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
    for role, content in messages:
        s += f"<|im_start|>{role}\n{content}<|im_end|>\n"
    return s + "<|im_start|>assistant\n"


def greedy_ids(model, ids, eog):
    out = run(["run", "-m", str(model), "--prompt-tokens", ",".join(map(str, ids)), "-n", str(N),
               "-t", "2"]).stdout.split()
    gen = [int(x) for x in out]
    # --prompt-tokens does not stop at end-of-generation tokens; chat does.
    for i, t in enumerate(gen):
        if t in eog:
            return gen[:i]
    return gen


def piped(model, hf, eog, rng):
    q1, q2 = question(rng), question(rng)
    r = run(["chat", "-m", str(model), "--temp", "0", "-n", str(N), "-t", "2"],
            input=f"{q1}\n{q2}\n".encode())
    stats = STATS.findall(r.stderr)
    check(len(stats) == 2, f"piped: expected two turn summaries on stderr, got {r.stderr!r}")
    if len(stats) != 2:
        return

    # Answer 1 against `brickc run -p` on the hand-built prompt.
    p1 = chatml([("user", q1)])
    ref = run(["run", "-m", str(model), "-p", p1, "--temp", "0", "-n", str(N), "-t", "2"])
    check(r.stdout.startswith(ref.stdout),
          f"piped: answer 1 {r.stdout[:len(ref.stdout)]!r} != brickc run -p {ref.stdout!r}")
    ids1 = hf.encode(p1, add_special_tokens=False).ids
    check(int(stats[0][0]) == len(ids1),
          f"piped: turn 1 fed {stats[0][0]} tokens, the tokenizers library gives {len(ids1)}")

    # Answer 2: the conversation so far, token by token.
    gen1 = greedy_ids(model, ids1, eog)
    answer1 = hf.decode(gen1, skip_special_tokens=True)
    check(ref.stdout.decode(errors="replace") == answer1 + "\n",
          f"piped: brickc run -p printed {ref.stdout!r}, its ids decode to {answer1!r}")
    delta = f"<|im_end|>\n<|im_start|>user\n{q2}<|im_end|>\n<|im_start|>assistant\n"
    ids2 = ids1 + gen1 + hf.encode(delta, add_special_tokens=False).ids
    gen2 = greedy_ids(model, ids2, eog)
    want = hf.decode(gen2, skip_special_tokens=True) + "\n"
    got = r.stdout.decode(errors="replace")
    a1 = ref.stdout.decode(errors="replace")
    check(got.startswith(a1) and got[len(a1):] == want,
          f"piped: answer 2 in {got!r} is not the token-level reference {want!r}")
    check(int(stats[1][3]) > int(stats[0][3]),
          f"piped: the context did not grow from turn 1 ({stats[0][3]}) to turn 2 ({stats[1][3]})")
    print(f"piped: q1 {q1!r} -> {len(gen1)} tokens ({answer1!r}), q2 {q2!r} -> {len(gen2)} "
          f"tokens; context {int(stats[0][3])} then {int(stats[1][3])}")


class Pty:
    def __init__(self, args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execv(BRICKC, [BRICKC, *args])
            finally:
                os._exit(127)
        self.buf = b""

    def send(self, data):
        os.write(self.fd, data)

    def expect(self, pattern, timeout=120):
        """Reads until `pattern` matches past what was consumed; returns the match."""
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                sys.exit(f"FAIL: timed out waiting for {pattern!r}; output so far: {self.buf!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data:
                    self.kill()
                    sys.exit(f"FAIL: the chat ended while waiting for {pattern!r}: {self.buf!r}")
                self.buf += data

    def wait_exit(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:  # drain, so that the child is never blocked on a full terminal
                if select.select([self.fd], [], [], 0.1)[0]:
                    os.read(self.fd, 65536)
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        self.kill()
        sys.exit("FAIL: the chat did not exit")

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def interactive(model, rng):
    q = question(rng)
    c = Pty(["chat", "-m", str(model), "--temp", "0", "-n", str(N), "-t", "2"])
    c.expect(rb"> ")
    answers = []
    for step in ["ask", "reset", "ask"]:
        if step == "reset":
            c.send(b"/reset\n")
            c.expect(rb"\[history cleared\]\r\n> ")
            continue
        c.send(q.encode() + b"\n")
        c.expect(re.escape(q.encode()) + rb"\r\n")  # the terminal's echo
        m = c.expect(rb"(.*?)" + STATS.pattern + rb"> ")
        answers.append((m.group(1), int(m.group(2)), m.group(4)))
    check(answers[0] == answers[1],
          f"pty: after /reset the same question gave {answers[1]!r}, before {answers[0]!r}")
    c.send(b"\x04")  # Ctrl-D at an empty line: end of input
    code = c.wait_exit()
    check(code == 0, f"pty: Ctrl-D exited with status {code}, expected 0")
    print(f"pty: {q!r} -> {answers[0][0]!r} twice ({answers[0][1]} prompt tokens), "
          f"Ctrl-D -> {code}")

    # A long answer, interrupted.
    c = Pty(["chat", "-m", str(model), "--temp", "0", "-n", "100000", "-t", "2"])
    c.expect(rb"> ")
    c.send(q.encode() + b"\n")
    c.expect(re.escape(q.encode()) + rb"\r\n.")  # the answer has begun
    time.sleep(0.5)
    c.send(b"\x03")
    m = c.expect(STATS.pattern + rb"> ", timeout=60)
    check(m.group(3) == b"interrupted",
          f"pty: the answer stopped by {m.group(3)!r}, expected interrupted")
    check(os.waitpid(c.pid, os.WNOHANG)[0] == 0, "pty: Ctrl-C during the answer ended the program")
    # Still alive and answering: /reset is acknowledged.
    c.send(b"/reset\n")
    c.expect(rb"\[history cleared\]\r\n> ")
    c.send(b"\x03")  # Ctrl-C at the prompt: quit
    code = c.wait_exit()
    check(code == 0, f"pty: Ctrl-C at the prompt exited with status {code}, expected 0")
    print(f"pty: long answer interrupted after {int(m.group(2))} tokens; "
          f"Ctrl-C at the prompt -> {code}")


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    model = WORK / "tiny.gguf"
    run(["synth", "--model", "test-tiny", "--vocab", str(VOCAB), "--seed", str(seed),
         "-o", str(model)])
    hf = Tokenizer.from_file(str(VOCAB))
    eog = {hf.token_to_id(t) for t in EOG_TEXTS}
    t0 = time.monotonic()
    piped(model, hf, eog, rng)
    interactive(model, rng)
    print(f"done in {time.monotonic() - t0:.1f} s")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("PASS")


if __name__ == "__main__":
    main()
