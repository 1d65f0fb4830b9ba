"""``make bench``: every benchmark in turn, each in its own process with its defaults (figures on stdout)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    failed = []
    for bench in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"\n=== {bench.stem} ===", flush=True)
        if subprocess.run([sys.executable, "-m", f"tests.bench.{bench.stem}"]).returncode != 0:
            failed.append(bench.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
