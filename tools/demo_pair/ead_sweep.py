"""Quick EAD trade-off on the demo pair with the ead binary: accuracy and share of large-model tokens.

    /usr/bin/python3 tools/demo_pair/ead_sweep.py EAD SMALL.gguf LARGE.gguf [--n 100] [--taus 0.25,0.5,1]

Runs `ead generate --chat --json -t 1` (greedy) per test problem for the strategies small, large and ead at
each tau, grades the last \\boxed{} against the reference answer (exact string).
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ead")
    ap.add_argument("small")
    ap.add_argument("large")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--taus", default="0.25,0.5,1")
    ap.add_argument("--test", default="models/demo/test.jsonl")
    a = ap.parse_args()
    rows = [json.loads(line) for line in open(a.test, encoding="utf-8")][:a.n]
    configs = [("small", None), ("large", None)] + [("ead", float(t)) for t in a.taus.split(",")]
    for strat, tau in configs:
        ok, n_tok, n_large = 0, 0, 0
        for r in rows:
            cmd = [a.ead, "generate", "-m", a.small, "-M", a.large, "--strategy", strat, "--chat", "-p", r["problem"],
                   "-t", "1", "--json", "--temp", "0"]
            if tau is not None:
                cmd += ["--tau", str(tau)]
            out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            ok += evaluate.extract(out["text"]) == r["answer"]
            n_tok += len(out["tokens"])
            n_large += sum(t["model"] == "large" for t in out["tokens"])
        print(json.dumps({"strategy": strat, "tau": tau, "n": len(rows), "accuracy": ok / len(rows),
                          "large_token_share": n_large / max(1, n_tok), "tokens": n_tok}), flush=True)


if __name__ == "__main__":
    main()
