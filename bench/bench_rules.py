"""Checking rule files of growing size: seconds per file for several shapes at 256 KiB, 512 KiB and 1 MiB (the
size limit), to show the time grows in proportion to the size. Prints figures; run `python bench/bench_rules.py`."""
from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from saleor_livedist.exceptions import RuleFileError  # noqa: E402
from saleor_livedist.rules.loader import MAX_FILE_BYTES, load_rules_from_texts  # noqa: E402

HEAD = "schema: livedist/v1\ncommission:\n  rates:\n    - id: direct\n      rate: 5\n"


def shapes(size: int) -> dict[str, str]:
    room = size - len(HEAD) - 64
    return {
        "one comment line": HEAD + "# " + "x" * room + "\n",
        "short comment lines": HEAD + "# note\n" * (room // 7),
        "one long description": HEAD + "      description: " + "x" * room + "\n",
        "a long product list": HEAD + "      when: {products: [" + ", ".join(
            f"p{i:06d}" for i in range(room // 9)) + "]}\n",
    }


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}")
    sizes = [MAX_FILE_BYTES // 4, MAX_FILE_BYTES // 2, MAX_FILE_BYTES]
    print(f"{'shape':24s}" + "".join(f"{size // 1024:>8d} KiB" for size in sizes) + "   1 MiB / 256 KiB")
    for name in shapes(1024):
        seconds = []
        for size in sizes:
            text = shapes(size)[name]
            started = time.perf_counter()
            try:
                load_rules_from_texts({"a.yaml": text})
            except RuleFileError:
                pass
            seconds.append(time.perf_counter() - started)
        print(f"{name:24s}" + "".join(f"{s:>10.2f} s" for s in seconds) + f"   {seconds[-1] / seconds[0]:>8.1f}x")


if __name__ == "__main__":
    main()
