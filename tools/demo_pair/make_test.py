"""Writes the test split (MATH fields) as JSONL: /usr/bin/python3 tools/demo_pair/make_test.py OUT [N]."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import task  # noqa: E402

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "models/demo/test.jsonl"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rows = task.test_set(n, seed=1234)
    task.write_jsonl(out, rows)
    print(out, len(rows))
