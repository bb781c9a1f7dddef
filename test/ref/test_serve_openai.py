#!/usr/bin/env python3
"""`brickc serve` driven by the real `openai` Python client and by plain urllib, on the CPU,
on a `brickc synth --vocab` GGUF (random seed) with the real Qwen2.5 vocabulary.

- Chat completions, non-streaming, greedy, max_tokens=8: the content is the text `brickc run`
  generates from the same ChatML prompt (a second path through prompt and generation),
  usage adds up, finish_reason is "length" after 8 tokens ("stop" only before them); the
  same request twice gives the same text; with stream=True the chunks join to that text
  and the stream ends with a finish_reason and [DONE].
- Completions (streaming and not) agree with each other and with `brickc run -p`; the
  model list names the model file.
- Log-probabilities: a greedy chat with logprobs + top_logprobs gives one entry per token
  whose bytes spell the content, the chosen token first among its alternatives, all in
  descending order; asked again (the cache then holds all of the prompt but its last
  token) the same tokens within 1e-3 nats, and streamed from that cache the same entries
  exactly; a completion's logprobs (legacy form) and /infill's n_probs
  (llama-server's form, with ids) likewise; the chosen tokens' log-probabilities match
  llama.cpp's log-softmax of its own logits (llama-cpp-python, same file, same tokens)
  within 0.05 nats on average.
- Continuous batching: a second server with --parallel 8 answers 16 concurrent clients
  (distinct questions and lengths; greedy, and sampled with a fixed seed; some streamed),
  each with exactly the text the one-at-a-time server gives it; /metrics counts them.
- urllib: /infill, /tokenize (checked against Hugging Face `tokenizers`) and /detokenize
  round trip a code string, /metrics counters grow.
- Trouble: malformed JSON, an unknown field, a wrong type, prompt + max_tokens over the
  context are 400s with OpenAI's error object naming the field (and both numbers); a
  second server with --api-key answers 401 without the key; of 16 requests at once, those
  beyond the one generating and 8 waiting get 503 with Retry-After: 1; SIGTERM and SIGINT end the
  servers with status 0 within seconds.
Only 127.0.0.1; every wait is bounded, and a stuck server is killed.
"""
from http.client import HTTPConnection
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import llama_cpp
import numpy as np
import openai
from tokenizers import Tokenizer

BRICKC = os.environ["BRICKC"]
WORK = Path(os.environ["BRICKC_WORK"]) / "serve_openai"
SHARED = Path(os.environ["BRICKC_SHARED"])
VOCAB = SHARED / "data" / "qwen2.5-tokenizer.json"
CTX = 256
N = 8
SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
# urllib and the openai client (httpx) honour proxy variables; the server is local.
for var in ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]:
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL:", msg)


def run(args):
    r = subprocess.run([BRICKC, *args], capture_output=True, timeout=300)
    if r.returncode != 0:
        sys.exit(f"FAIL: brickc {' '.join(args[:2])} exited {r.returncode}: "
                 f"{r.stderr.decode(errors='replace')}")
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, model, name, extra=()):
        self.port = free_port()
        self.log = open(WORK / f"{name}.log", "wb")
        self.proc = subprocess.Popen(
            [BRICKC, "serve", "-m", str(model), "--device", "cpu", "-t", "2", "-c", str(CTX),
             "--host", "127.0.0.1", "--port", str(self.port), *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"FAIL: brickc serve exited {self.proc.returncode} before it was "
                         f"ready: {(WORK / f'{name}.log').read_text(errors='replace')}")
            try:
                if http("GET", self.url + "/health")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                sys.exit("FAIL: brickc serve did not answer /health within 120 s")
            time.sleep(0.2)

    def stop(self, sig):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=15)
            check(rc == 0, f"brickc serve exited {rc} after {sig.name}, expected 0")
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            check(False, f"brickc serve still running 15 s after {sig.name}")
        self.log.close()


def http(method, url, body=None, headers=None):
    """(status, headers, body bytes); bodies of errors too."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def post_json(url, body, **kw):
    status, _, data = http("POST", url, body, {"Content-Type": "application/json"}, **kw)
    return status, json.loads(data)


def question(rng):
    words = ["sort", "a", "list", "in", "python", "why", "does", "rust", "borrow", "check",
             "write", "fizzbuzz", "explain", "monads", "quickly", "what", "is", "a", "closure"]
    return " ".join(rng.choice(words) for _ in range(rng.randint(2, 6))) + "?"


def run_text(model, prompt):
    out = run(["run", "-m", str(model), "-p", prompt, "--temp", "0", "-n", str(N), "-t", "2"])
    # run ends the text with one newline; ill-formed UTF-8 is mended as the server mends it.
    return out.stdout.decode(errors="replace")[:-1]


def check_usage(what, usage, finish, text_tokens=None):
    check(usage.prompt_tokens > 0, f"{what}: prompt_tokens {usage.prompt_tokens}")
    check(usage.total_tokens == usage.prompt_tokens + usage.completion_tokens,
          f"{what}: total_tokens {usage.total_tokens} != prompt {usage.prompt_tokens} + "
          f"completion {usage.completion_tokens}")
    # An end-of-generation token before the 8th ends early with "stop".
    want = "length" if usage.completion_tokens == N else "stop"
    check(usage.completion_tokens <= N and finish == want,
          f"{what}: finish_reason {finish!r} with {usage.completion_tokens} of {N} tokens")


def openai_checks(srv, model, rng):
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0,
                           timeout=120)
    q = question(rng)
    messages = [{"role": "user", "content": q}]
    args = dict(model=model.name, messages=messages, max_tokens=N, temperature=0)
    r = client.chat.completions.create(**args)
    text = r.choices[0].message.content
    check(isinstance(text, str), f"chat content is {type(text)}")
    check(r.object == "chat.completion" and r.choices[0].message.role == "assistant",
          f"chat object {r.object} role {r.choices[0].message.role}")
    check_usage("chat", r.usage, r.choices[0].finish_reason)
    ref = run_text(model, f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{q}"
                          f"<|im_end|>\n<|im_start|>assistant\n")
    check(text == ref, f"chat content {text!r} != brickc run's {ref!r}")
    r2 = client.chat.completions.create(**args)
    again = r2.choices[0].message.content
    check(again == text, f"greedy chat not deterministic: {text!r} then {again!r}")
    # Prompt reuse: the same prompt again comes from the cache but for its last token.
    cached = r2.usage.prompt_tokens_details.cached_tokens
    check(cached == r2.usage.prompt_tokens - 1,
          f"the same prompt again reused {cached} of its {r2.usage.prompt_tokens} tokens")
    # A second turn reuses the first turn's tokens and answers as a fresh run does.
    q2 = question(rng)
    turn2 = messages + [{"role": "assistant", "content": text}, {"role": "user", "content": q2}]
    r3 = client.chat.completions.create(model=model.name, messages=turn2, max_tokens=N,
                                        temperature=0)
    ref3 = run_text(model, f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{q}"
                           f"<|im_end|>\n<|im_start|>assistant\n{text}<|im_end|>\n"
                           f"<|im_start|>user\n{q2}<|im_end|>\n<|im_start|>assistant\n")
    check(r3.choices[0].message.content == ref3,
          f"second turn {r3.choices[0].message.content!r} != brickc run's {ref3!r}")
    first_turn = r.usage.prompt_tokens
    cached = r3.usage.prompt_tokens_details.cached_tokens
    check(first_turn <= cached < r3.usage.prompt_tokens,
          f"second turn reused {cached} tokens; the first turn's prompt has {first_turn}")

    pieces, finishes, n_chunks = [], [], 0
    for chunk in client.chat.completions.create(**args, stream=True):
        n_chunks += 1
        check(chunk.object == "chat.completion.chunk", f"chunk object {chunk.object}")
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finishes.append(chunk.choices[0].finish_reason)
        check(n_chunks < 10 * N, "stream does not end")
        if n_chunks >= 10 * N:
            break
    check("".join(pieces) == text, f"streamed chat {''.join(pieces)!r} != {text!r}")
    check(finishes and finishes[-1] == r.choices[0].finish_reason and
          all(f is None for f in finishes[:-1]), f"stream finish reasons {finishes}")

    prompt = "def fibonacci(n):\n    "
    c = client.completions.create(model=model.name, prompt=prompt, max_tokens=N, temperature=0)
    check(c.object == "text_completion", f"completion object {c.object}")
    check_usage("completion", c.usage, c.choices[0].finish_reason)
    ref = run_text(model, prompt)
    check(c.choices[0].text == ref, f"completion {c.choices[0].text!r} != brickc run's {ref!r}")
    streamed = "".join(ch.choices[0].text for ch in client.completions.create(
        model=model.name, prompt=prompt, max_tokens=N, temperature=0, stream=True) if ch.choices)
    check(streamed == c.choices[0].text, f"streamed completion {streamed!r} != {c.choices[0].text!r}")

    ids = [m.id for m in client.models.list().data]
    check(ids == [model.name], f"models {ids}, expected [{model.name!r}]")
    client.close()
    return len(messages), r.usage.prompt_tokens, q


def llama_logprobs(model, prompt_ids, pieces):
    """llama.cpp's log-probability of each of `pieces` (token bytes) continuing
    `prompt_ids`, each piece found among llama.cpp's 64 most likely tokens; None where it
    is not there (a top-1 disagreement brickc's own checks would show)."""
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=CTX, n_threads=2, logits_all=True,
                          verbose=False)
    llm.eval(prompt_ids)
    out = []
    for piece in pieces:
        x = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
        lp = x - x.max() - np.log(np.exp(x - x.max()).sum())
        found = [int(i) for i in np.argsort(-lp)[:64]
                 if llm.detokenize([int(i)], special=True) == piece]
        if not found:
            out.append(None)
            break
        out.append(float(lp[found[0]]))
        llm.eval([found[0]])
    del llm
    return out


def logprobs_checks(srv, model, rng):
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0,
                           timeout=120)
    q = question(rng)

    def chat(**extra):  # the one greedy chat request this check asks, three times
        return client.chat.completions.create(model=model.name, messages=[{"role": "user", "content": q}],
                                              max_tokens=N, temperature=0, logprobs=True,
                                              top_logprobs=3, **extra)

    r = chat()
    content = r.choices[0].logprobs.content
    text = r.choices[0].message.content
    check(len(content) == r.usage.completion_tokens - (r.choices[0].finish_reason == "stop"),
          f"chat logprobs: {len(content)} entries for {r.usage.completion_tokens} tokens")
    spelled = b"".join(bytes(e.bytes) for e in content).decode(errors="replace")
    check(spelled == text, f"chat logprobs spell {spelled!r}, the content is {text!r}")
    for e in content:
        top = [t.logprob for t in e.top_logprobs]
        check(len(top) == 3 and top == sorted(top, reverse=True) and top[0] <= 0,
              f"top_logprobs {top} not 3, descending, <= 0")
        # Greedy: the chosen token is the most likely one.
        check(abs(e.logprob - top[0]) < 1e-6 and e.bytes == e.top_logprobs[0].bytes,
              f"greedy token {e.token!r} ({e.logprob}) is not the first of {e.top_logprobs}")
    # The same request again reuses the cache of all but the prompt's last token, which a
    # one-token step evaluates instead of the prompt's batched prefill: the same tokens,
    # the first one's log-probability within rounding of the two paths.
    again = chat().choices[0].logprobs.content
    check([e.token for e in again] == [e.token for e in content],
          f"a repeated chat's tokens {[e.token for e in again]} differ from {[e.token for e in content]}")
    drift = max((abs(a.logprob - b.logprob) for a, b in zip(again, content)), default=0.0)
    check(drift < 1e-3, f"a repeated chat's logprobs differ by {drift:.2g} nats (at most 1e-3)")
    # Streaming changes nothing: from the same cache, the chunks carry those entries exactly.
    streamed = []
    for chunk in chat(stream=True):
        if chunk.choices and chunk.choices[0].logprobs:
            streamed += chunk.choices[0].logprobs.content
    check([(e.token, e.logprob) for e in streamed] == [(e.token, e.logprob) for e in again],
          "streamed chat logprobs differ from the whole answer's")

    prompt = "def quicksort(items):\n    "
    c = client.completions.create(model=model.name, prompt=prompt, max_tokens=N, temperature=0,
                                  logprobs=2)
    lp = c.choices[0].logprobs
    check(len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset)
          and "".join(lp.tokens) == c.choices[0].text and lp.text_offset[0] == 0,
          f"completion logprobs {lp}")
    status, infill = post_json(srv.url + "/infill", {"input_prefix": "def add(a, b):\n    return ",
                                                     "input_suffix": "\n", "n_predict": N,
                                                     "temperature": 0, "n_probs": 2})
    probs = infill.get("completion_probabilities", [])
    spelled = b"".join(bytes(p["bytes"]) for p in probs).decode(errors="replace")
    check(status == 200 and infill["tokens_predicted"] - 1 <= len(probs) <= infill["tokens_predicted"]
          and spelled == infill["content"]
          and all(p["id"] == p["top_logprobs"][0]["id"] for p in probs),
          f"/infill n_probs: {status} {str(infill)[:300]}")

    # Against llama.cpp: the chat's tokens after the same prompt ids (the server tokenizes
    # the rendered ChatML as /tokenize does).
    rendered = (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
                f"<|im_start|>assistant\n")
    _, tok = post_json(srv.url + "/tokenize", {"content": rendered})
    ref = llama_logprobs(model, tok["tokens"], [bytes(e.bytes) for e in content])
    ours = [e.logprob for e in content][: len(ref)]
    pairs = [(a, b) for a, b in zip(ours, ref) if b is not None]
    diff = float(np.mean([abs(a - b) for a, b in pairs])) if pairs else float("inf")
    print(f"logprobs: {len(pairs)} of {len(ours)} tokens compared with llama.cpp, mean |diff| "
          f"{diff:.4f} nats (ours {[round(a, 3) for a, _ in pairs]}, llama.cpp "
          f"{[round(b, 3) for _, b in pairs]})")
    check(len(pairs) == len(ours) and diff < 0.05,
          f"chat logprobs vs llama.cpp: {len(pairs)}/{len(ours)} found, mean |diff| {diff}")
    client.close()


def batching_checks(srv, model, rng):
    """16 clients at once on --parallel 8 get what each gets alone from `srv`."""
    requests = []
    for i in range(16):
        body = {"messages": [{"role": "user", "content": question(rng)}],
                "max_tokens": rng.randint(2, 2 * N)}
        if i % 2:
            body.update(temperature=0.9, seed=rng.randrange(1 << 30))
        else:
            body["temperature"] = 0
        requests.append(body)

    def answer(url, body, stream):
        if not stream:
            status, j = post_json(url + "/v1/chat/completions", body)
            return status, j["choices"][0]["message"]["content"] if status == 200 else j
        status, _, data = http("POST", url + "/v1/chat/completions", dict(body, stream=True),
                               {"Content-Type": "application/json"})
        text = ""
        for line in data.decode().splitlines():
            if line.startswith("data: {"):
                ch = json.loads(line[6:])["choices"]
                text += (ch[0]["delta"].get("content") or "") if ch else ""
        return status, text

    alone = [answer(srv.url, body, False) for body in requests]
    par = Server(model, "serve-parallel", ["--parallel", "8"])
    try:
        results = [None] * len(requests)

        def client(i):
            results[i] = answer(par.url, requests[i], i % 3 == 0)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(requests))]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        took = time.monotonic() - t0
        same = sum(r == a for r, a in zip(results, alone))
        print(f"batching: {same} of {len(requests)} concurrent answers on --parallel 8 equal the "
              f"one-at-a-time server's ({took:.1f} s)")
        for i, (r, a) in enumerate(zip(results, alone)):
            check(r == a, f"request {i} on --parallel 8: {r!r}, alone: {a!r}")
        # A client that goes away mid-stream frees its sequence: nothing is left running.
        conn = HTTPConnection("127.0.0.1", par.port, timeout=60)
        conn.request("POST", "/v1/chat/completions", json.dumps(
            {"messages": [{"role": "user", "content": question(rng)}], "stream": True,
             "max_tokens": CTX // 2, "temperature": 0}), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        check(resp.status == 200 and resp.readline().startswith(b"data: "),
              f"streamed request on --parallel 8: {resp.status}")
        conn.close()
        # (It may not have started yet when the client leaves: wait for it to end.)
        deadline = time.monotonic() + 30
        while (metrics(par).get("brickc_completions_total") != len(requests) + 1 and
               time.monotonic() < deadline):
            time.sleep(0.2)
        m = metrics(par)
        check(m.get("brickc_completions_total") == len(requests) + 1 and
              m.get("brickc_requests_processing") == 0 and m.get("brickc_requests_waiting") == 0,
              f"--parallel 8 /metrics after 16 requests: {m}")
    finally:
        par.stop(signal.SIGTERM)


def metrics(srv):
    status, _, body = http("GET", srv.url + "/metrics")
    check(status == 200, f"/metrics status {status}")
    out = {}
    for line in body.decode().splitlines():
        m = re.fullmatch(r"(brickc_\w+) (\S+)", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def urllib_checks(srv, hf):
    before = metrics(srv)
    for name in ["requests_total", "completions_total", "prompt_tokens_total",
                 "generated_tokens_total", "prefill_tokens_per_second",
                 "decode_tokens_per_second", "requests_waiting"]:
        check(f"brickc_{name}" in before, f"/metrics lacks brickc_{name}")

    status, r = post_json(srv.url + "/infill", {
        "input_prefix": "def add(a, b):\n    ", "input_suffix": "\n\nprint(add(1, 2))\n",
        "input_extra": [{"filename": "util.py", "text": "def sub(a, b):\n    return a - b\n"}],
        "prompt": "return", "n_predict": N, "temperature": 0})
    check(status == 200 and isinstance(r.get("content"), str) and r.get("stop") is True and
          0 <= r.get("tokens_predicted", -1) <= N, f"/infill answered {status} {r}")

    code = "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * 2;  // héllo 世界\n}\n"
    status, r = post_json(srv.url + "/tokenize", {"content": code})
    check(status == 200 and r["tokens"] == hf.encode(code, add_special_tokens=False).ids,
          f"/tokenize {status} {r} != Hugging Face's ids")
    status, back = post_json(srv.url + "/detokenize", {"tokens": r.get("tokens", [])})
    check(status == 200 and back.get("content") == code, f"/detokenize gave {status} {back}")

    after = metrics(srv)
    for name in ["requests_total", "completions_total", "prompt_tokens_total",
                 "generated_tokens_total"]:
        k = f"brickc_{name}"
        check(after.get(k, 0) > before.get(k, 0), f"{k} did not grow: {before.get(k)} -> {after.get(k)}")


def error_of(what, status, body, want_status, param):
    check(status == want_status, f"{what}: status {status}, expected {want_status}: {body}")
    err = body.get("error") if isinstance(body, dict) else None
    check(isinstance(err, dict) and isinstance(err.get("message"), str) and
          err.get("type") == "invalid_request_error" and "code" in err and err["code"] is None
          and err.get("param") == param,
          f"{what}: error object {body}, expected param {param!r}")
    return err.get("message", "") if isinstance(err, dict) else ""


def trouble_checks(srv, q, n_prompt):
    url = srv.url + "/v1/chat/completions"
    msgs = [{"role": "user", "content": q}]
    status, _, data = http("POST", url, b'{"messages": [', {"Content-Type": "application/json"})
    error_of("malformed JSON", status, json.loads(data), 400, None)
    status, body = post_json(url, {"messages": msgs, "max_tokenz": 4})
    msg = error_of("unknown field", status, body, 400, "max_tokenz")
    check("max_tokenz" in msg, f"unknown field message {msg!r}")
    status, body = post_json(url, {"messages": msgs, "max_tokens": "x"})
    msg = error_of("wrong type", status, body, 400, "max_tokens")
    check("max_tokens" in msg, f"wrong type message {msg!r}")
    status, body = post_json(url, {"messages": [{"role": "robot", "content": "hi"}]})
    error_of("bad role", status, body, 400, "messages[0].role")
    big = CTX * 4
    status, body = post_json(url, {"messages": msgs, "max_tokens": big})
    msg = error_of("over the context", status, body, 400, "max_tokens")
    check(str(n_prompt) in msg and str(big) in msg and str(CTX) in msg,
          f"over-context message {msg!r} should name {n_prompt}, {big} and {CTX}")
    status, _, data = http("GET", srv.url + "/v1/nothing")
    check(status == 404 and "error" in json.loads(data), f"unknown endpoint: {status} {data!r}")


def queue_checks(srv):
    """16 requests at once: one generates, 8 wait, the rest are refused with 503."""
    n, results = 16, []
    lock = threading.Lock()

    def one():
        status, headers, data = http("POST", srv.url + "/v1/completions",
                                     {"prompt": "def main():", "max_tokens": 48, "temperature": 0})
        with lock:
            results.append((status, headers.get("Retry-After"), data))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    busy = [r for r in results if r[0] == 503]
    print(f"queue: {len(busy)} of {n} requests refused with 503")
    check(len(results) == n and all(r[0] in (200, 503) for r in results),
          f"queue: statuses {[r[0] for r in results]}; other answers: "
          f"{[r[2][:300] for r in results if r[0] not in (200, 503)][:2]}")
    # The first request holds the model while the others arrive, so 16 - 1 - 8 are refused
    # (fewer only if one finished before all had arrived).
    check(1 <= len(busy) <= n - 9, f"queue: {len(busy)} of {n} refused, expected 1..{n - 9}")
    check(all(r[1] == "1" and "error" in json.loads(r[2]) for r in busy),
          f"queue: 503 without Retry-After: 1 or an error object: {busy[:1]}")


def api_key_checks(model):
    key = "sk-test-" + str(random.randrange(1 << 30))
    srv = Server(model, "serve_key", ["--api-key", key])
    status, _, _ = http("GET", srv.url + "/health")
    check(status == 200, f"/health with --api-key: {status}, expected 200 without a key")
    status, _, data = http("GET", srv.url + "/v1/models")
    check(status == 401 and "error" in json.loads(data), f"no key: {status} {data!r}")
    status, _, _ = http("GET", srv.url + "/v1/models", headers={"Authorization": "Bearer wrong"})
    check(status == 401, f"wrong key: {status}, expected 401")
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key=key, max_retries=0, timeout=60)
    check([m.id for m in client.models.list().data] == [model.name], "models with the key")
    client.close()
    srv.stop(signal.SIGINT)


def backlog_checks(srv):
    """cpp-httplib listens with a backlog of 5, which reset some of 64 clients connecting at
    once; the server raises it. ss reports a listening socket's backlog as its Send-Q. Then
    100 connections opened together each get their answer."""
    out = subprocess.run(["ss", "-ltnH", f"sport = :{srv.port}"], capture_output=True,
                         text=True, timeout=30).stdout.split()
    backlog = int(out[2]) if len(out) >= 3 and out[2].isdigit() else -1
    check(backlog >= 128, f"backlog: listen backlog {backlog} (ss: {out}), expected >= 128")
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=60) for _ in range(100)]
    for s in socks:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    statuses = []
    for s in socks:
        with s:
            try:
                statuses.append(s.recv(64).split(b" ")[1].decode())
            except (OSError, IndexError) as e:
                statuses.append(repr(e))
    bad = [x for x in statuses if x != "200"]
    check(not bad, f"backlog: {len(bad)} of 100 simultaneous connections got {bad[:3]}, not 200")


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    seed = int(os.environ.get("BRICKC_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"seed {seed} (BRICKC_SEED repeats it)")
    model = WORK / "tiny.gguf"
    run(["synth", "--model", "test-tiny", "--vocab", str(VOCAB), "--seed", str(seed),
         "-o", str(model)])
    hf = Tokenizer.from_file(str(VOCAB))
    t0 = time.monotonic()
    srv = Server(model, "serve")
    try:
        backlog_checks(srv)
        _, n_prompt, q = openai_checks(srv, model, rng)
        logprobs_checks(srv, model, rng)
        batching_checks(srv, model, rng)
        urllib_checks(srv, hf)
        trouble_checks(srv, q, n_prompt)
        queue_checks(srv)
    finally:
        if srv.proc.poll() is None:
            srv.stop(signal.SIGTERM)
    api_key_checks(model)
    print(f"done in {time.monotonic() - t0:.1f} s")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("PASS")


if __name__ == "__main__":
    main()
