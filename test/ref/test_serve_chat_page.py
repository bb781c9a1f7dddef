#!/usr/bin/env python3
"""`brickc serve`'s chat page (GET /) in headless Chromium (Debian's package), driven over
the DevTools protocol, on the CPU, on a `brickc synth --vocab` GGUF (random seed) with the
real Qwen2.5 vocabulary:

- the page comes from the binary (no files) and names the model;
- ?q=...&temperature=0&max_tokens=8 streams an answer into the page that equals the greedy
  answer /v1/chat/completions gives for that one-message chat (urllib, not the page's code);
- a second question typed into the box (DevTools key events) and sent with Enter continues
  the conversation: its answer equals the API's for the two-turn history;
- a screenshot of the page goes to the work folder (the committed one:
  bench/results/serve/chat-page.png).
Exit code 77 (skipped) where Chromium or the real vocabulary is missing.
"""
import base64
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

BRICKC = os.environ["BRICKC"]
WORK = Path(os.environ["BRICKC_WORK"]) / "serve_chat_page"
VOCAB = Path(os.environ["BRICKC_SHARED"]) / "data" / "qwen2.5-tokenizer.json"
N = 8
for var in ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]:
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout=60):
    """fn() until it returns something truthy (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.1)
    sys.exit(f"FAIL: timed out after {timeout} s waiting for {what}")


def api_answer(url, messages):
    body = json.dumps({"messages": messages, "temperature": 0, "max_tokens": N}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", body,
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)["choices"][0]["message"]["content"]


class DevTools:
    """Chromium's DevTools protocol over the page target's websocket."""

    def __init__(self, ws_url):
        import websocket  # websocket-client, from scripts/requirements-serve.txt
        self.ws = websocket.create_connection(ws_url, timeout=120)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    sys.exit(f"FAIL: DevTools {method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r.get("result", {}).get("value")


def main():
    chromium = shutil.which("chromium")
    if not chromium or not VOCAB.exists():
        print(f"SKIP: needs chromium (found: {chromium}) and {VOCAB}")
        return 77
    WORK.mkdir(parents=True, exist_ok=True)
    seed = int(os.environ.get("BRICKC_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"seed {seed} (BRICKC_SEED repeats it)")
    model = WORK / "tiny.gguf"
    subprocess.run([BRICKC, "synth", "--model", "test-tiny", "--vocab", str(VOCAB), "--seed",
                    str(seed), "-o", str(model)], check=True, capture_output=True, timeout=300)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(WORK / "serve.log", "wb")
    srv = subprocess.Popen([BRICKC, "serve", "-m", str(model), "--device", "cpu", "-t", "2",
                            "-c", "512", "--host", "127.0.0.1", "--port", str(port)],
                           stdout=log, stderr=subprocess.STDOUT)
    profile = tempfile.mkdtemp(prefix="brickc-chromium-")
    dt_port = free_port()
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", f"--remote-debugging-port={dt_port}",
         "--remote-allow-origins=*", "--window-size=1000,640", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = []
    try:
        wait_for("brickc serve", lambda: urllib.request.urlopen(url + "/health", timeout=2))
        words = ["sort", "a", "list", "in", "python", "write", "fizzbuzz", "explain", "closures"]
        q1 = " ".join(rng.choice(words) for _ in range(4))
        q2 = " ".join(rng.choice(words) for _ in range(3))
        want1 = api_answer(url, [{"role": "user", "content": q1}])

        targets = wait_for("Chromium's DevTools", lambda: json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{dt_port}/json/list", timeout=2)))
        page = next(t for t in targets if t["type"] == "page")
        dt = DevTools(page["webSocketDebuggerUrl"])
        dt.call("Page.enable")
        query = urllib.parse.urlencode({"q": q1, "temperature": 0, "max_tokens": N})
        dt.call("Page.navigate", url=f"{url}/?{query}")
        done = "(n) => { const a = document.querySelectorAll('.assistant, .error')[n];" \
               " return a && a.dataset.done === '1'; }"
        wait_for("the first answer", lambda: dt.js(f"({done})(0)"), timeout=120)
        got1 = dt.js("document.querySelectorAll('.msg')[1].textContent")
        model_name = dt.js("document.getElementById('model').textContent")
        if got1 != want1:
            failures.append(f"page answered {got1!r}, the API {want1!r}")
        if model_name != model.name:
            failures.append(f"page names the model {model_name!r}, expected {model.name!r}")

        dt.js("document.getElementById('input').focus()")
        dt.call("Input.insertText", text=q2)
        for kind in ("keyDown", "keyUp"):
            dt.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                    windowsVirtualKeyCode=13)
        wait_for("the second answer", lambda: dt.js(f"({done})(1)"), timeout=120)
        got2 = dt.js("document.querySelectorAll('.msg')[3].textContent")
        want2 = api_answer(url, [{"role": "user", "content": q1},
                                 {"role": "assistant", "content": want1},
                                 {"role": "user", "content": q2}])
        if got2 != want2:
            failures.append(f"second turn: page answered {got2!r}, the API {want2!r}")
        stats = dt.js("Array.from(document.querySelectorAll('.stats')).map(s => s.textContent)")
        if not stats or len(stats) != 2 or "tokens" not in stats[0]:
            failures.append(f"per-answer statistics missing: {stats}")
        shot = base64.b64decode(dt.call("Page.captureScreenshot", format="png")["data"])
        (WORK / "chat-page.png").write_bytes(shot)
        print(f"page: {q1!r} -> {got1!r}; {q2!r} -> {got2!r}; {stats}; screenshot "
              f"{WORK / 'chat-page.png'} ({len(shot)} bytes)")
    finally:
        browser.kill()
        srv.terminate()
        srv.wait(timeout=30)
        browser.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
