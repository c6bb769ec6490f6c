"""What a serving process loads in the background once it listens (mockserver/warmup.py), and
what the first request with images loads beside its download (core.images)."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def run_fresh(code: str) -> str:
    """`code` in a fresh interpreter (nothing imported yet): what it prints."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_background_loading_prepares_the_first_download() -> None:
    printed = run_fresh("""
        import sys, threading
        from mockserver import warmup
        from mockserver.core import netpolicy
        assert "httpx" not in sys.modules
        warmup.start_background_loading()
        for thread in threading.enumerate():
            if thread.name == "background-loading":
                thread.join(30)
        print(netpolicy._tls_context.cache_info().currsize,
              netpolicy._guarded_classes.cache_info().currsize,
              "httpcore" in sys.modules, "anyio._backends._asyncio" in sys.modules,
              "cv2" in sys.modules)
    """)
    assert printed == "1 1 True True False"  # OpenCV waits for a request with images


def test_the_first_request_with_images_loads_pillow_and_opencv_beside_it() -> None:
    printed = run_fresh("""
        import sys, threading
        from mockserver.core import images
        images.start_image_imports(faces=False)
        images.start_image_imports(faces=False)  # once only
        loaders = [t for t in threading.enumerate() if t.name == "image-imports"]
        for thread in loaders:
            thread.join(60)
        pillow_only = (len(loaders), images.sniff_formats.cache_info().currsize,
                       "cv2" in sys.modules)
        images.start_image_imports(faces=True)
        for thread in threading.enumerate():
            if thread.name == "image-imports":
                thread.join(60)
        print(*pillow_only, "cv2" in sys.modules)
    """)
    assert printed == "1 1 False True"
