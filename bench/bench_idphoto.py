"""Throughput of the offline ID-photo renderer (gpt.ge /task/pic/idphoto mock).

Renders ID photos from a 1024x1024 portrait (the public-domain NASA astronaut picture
bundled with scikit-image, upscaled) for a bounded time per case and prints photos/s.
Face detection is included, as in a request without a face box.  No network.

    .venv/bin/python bench/bench_idphoto.py --seconds 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Literal

# Allow running as a plain script from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402
from skimage import data as skimage_data  # noqa: E402

from mockserver.providers.gptge.idphoto import render_id_photo  # noqa: E402

CASES: list[tuple[str, int, int, Literal["png", "jpg"], str]] = [
    ("295x413 png", 295, 413, "png", "FFFFFF"),
    ("600x800 jpg", 600, 800, "jpg", "438EDB"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="wall-clock budget per case (default 5)")
    args = parser.parse_args(argv)
    source = Image.fromarray(skimage_data.astronaut()).resize((1024, 1024),
                                                              Image.Resampling.LANCZOS)
    render_id_photo(source, None, 100, 100)  # warm-up: cascade load, lazy imports
    print(f"source 1024x1024, budget {args.seconds:g} s per case")
    for label, w, h, fmt, bg in CASES:
        count, nbytes = 0, 0
        start = time.perf_counter()
        # Always render at least once so a tiny budget still yields a number.
        while count == 0 or time.perf_counter() - start < args.seconds:
            nbytes = len(render_id_photo(source, None, w, h, fmt, bg).data)
            count += 1
        elapsed = time.perf_counter() - start
        print(f"{label}: {count / elapsed:.2f} ID photos/s "
              f"({count} in {elapsed:.2f} s, {elapsed / count * 1000:.0f} ms each, {nbytes} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
