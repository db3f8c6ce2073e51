#!/usr/bin/env python3
"""Throughput and latency of `ead serve` (a program, not a test).

Starts `ead serve` on a free loopback port with the given model pair, then for each strategy and each client
concurrency sends streaming chat requests (temperature 0, fixed max_tokens) from that many client threads and
reports requests/s, generated tokens/s, latency p50/p99 and time to first token p50/p99 (client-side), plus the
server-reported large-model share. Prints a Markdown table; --json writes the rows.

    bench/server_bench.py --ead build/ead -m models/demo/demo-small.Q8_0.gguf -M models/demo/demo-large.Q8_0.gguf
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

PROMPTS = [
    "What is the sum of the first ten positive integers?",
    "Solve for x: 3x + 5 = 20.",
    "Explain why the square root of 2 is irrational.",
    "A train travels 120 km in 1.5 hours. What is its average speed?",
    "How many ways can 4 books be arranged on a shelf?",
    "What is 15% of 240?",
    "Find the derivative of x^3 + 2x.",
    "What is the greatest common divisor of 48 and 180?",
]


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def one_request(base, prompt, max_tokens, strategy, extra):
    body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0,
            "stream": True, "ead": dict(extra, strategy=strategy)}
    req = urllib.request.Request(base + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    ttft = None
    final = None
    with urllib.request.urlopen(req, timeout=600) as r:
        for raw in r:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            ev = json.loads(data)
            if "error" in ev:
                raise RuntimeError(ev["error"]["message"])
            if ttft is None and ev.get("ead", {}).get("tokens", 0) > 0:
                ttft = time.perf_counter() - t0
            if "usage" in ev:
                final = ev
    total = time.perf_counter() - t0
    if final is None:
        raise RuntimeError("stream ended without a final chunk")
    return total, ttft if ttft is not None else total, final


def run_point(base, strategy, clients, n_requests, max_tokens, extra):
    lat, ttfts, tokens, large, errors = [], [], 0, 0, 0
    lock = threading.Lock()
    counter = iter(range(n_requests))

    def worker():
        nonlocal tokens, large, errors
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            try:
                total, ttft, final = one_request(base, PROMPTS[i % len(PROMPTS)], max_tokens, strategy, extra)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors += 1
                print(f"  request failed: {e}", file=sys.stderr)
                continue
            with lock:
                lat.append(total)
                ttfts.append(ttft)
                tokens += final["usage"]["completion_tokens"]
                large += final["ead"]["tokens"]["large"]

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "strategy": strategy, "clients": clients, "requests": len(lat), "errors": errors, "wall_s": wall,
        "requests_per_s": len(lat) / wall, "tokens_per_s": tokens / wall,
        "latency_p50_s": percentile(lat, 50), "latency_p99_s": percentile(lat, 99),
        "ttft_p50_s": percentile(ttfts, 50), "ttft_p99_s": percentile(ttfts, 99),
        "large_share": large / tokens if tokens else float("nan"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ead", default="build/ead", help="the ead binary")
    ap.add_argument("-m", "--model", required=True, help="small model")
    ap.add_argument("-M", "--large-model", required=True, help="large model")
    ap.add_argument("--clients", default="1,4,8", help="client concurrencies")
    ap.add_argument("--strategies", default="large,ead")
    ap.add_argument("--requests", type=int, default=16, help="requests per point (at least the concurrency)")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--tau", type=float, default=None, help="EAD threshold for the ead points")
    ap.add_argument("--slots", type=int, default=0, help="server slots (0: the largest concurrency)")
    ap.add_argument("--threads", type=int, default=0, help="threads per slot (0: server default)")
    ap.add_argument("--ctx-size", type=int, default=1024)
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args()

    clients = [int(x) for x in a.clients.split(",")]
    slots = a.slots or max(clients)
    cmd = [a.ead, "serve", "-m", a.model, "-M", a.large_model, "--host", "127.0.0.1", "--port", "0",
           "--slots", str(slots), "--queue", str(4 * max(clients)), "-c", str(a.ctx_size)]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stdout:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        print(proc.stderr.read(), file=sys.stderr)
        sys.exit("ead serve did not start")
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        extra = {} if a.tau is None else {"tau": a.tau}
        one_request(base, PROMPTS[0], 4, "ead", {})  # warm-up (page in the weights)
        for strategy in a.strategies.split(","):
            for c in clients:
                row = run_point(base, strategy, c, max(a.requests, c), a.max_tokens,
                                extra if strategy == "ead" else {})
                rows.append(row)
                print(f"  {strategy:6} clients={c}: {row['requests_per_s']:.2f} req/s, "
                      f"{row['tokens_per_s']:.1f} tok/s", file=sys.stderr)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()

    print(f"\nead serve: {os.path.basename(a.model)} + {os.path.basename(a.large_model)}, {slots} slots, "
          f"max_tokens {a.max_tokens}, {os.cpu_count()} CPUs\n")
    print("| strategy | clients | requests | req/s | tok/s | latency p50 (s) | latency p99 (s) | TTFT p50 (s) "
          "| TTFT p99 (s) | f_L | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['strategy']} | {r['clients']} | {r['requests']} | {r['requests_per_s']:.2f} | "
              f"{r['tokens_per_s']:.1f} | {r['latency_p50_s']:.3f} | {r['latency_p99_s']:.3f} | "
              f"{r['ttft_p50_s']:.3f} | {r['ttft_p99_s']:.3f} | {r['large_share']:.2f} | {r['errors']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
