"""The dashboard's templates and static files ship in the wheel (it must work installed)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mockserver" / "dashboard"


def test_the_wheel_carries_every_template_and_static_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("portrait_mockserver-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    needed = {str(p.relative_to(ROOT)) for folder in ("templates", "static")
              for p in (PACKAGE / folder).iterdir()}
    assert len(needed) >= 10 and needed <= shipped, needed - shipped
