"""``python -m geomcore.cli`` runs the command (it printed nothing before it had a main guard)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_python_m_geomcore_cli_lists_the_checkouts_experiments(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GEOMCORE_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import runpy, geomcore; print(geomcore.__file__, flush=True); "
         "runpy.run_module('geomcore.cli', run_name='__main__')", "list"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, *rows = done.stdout.splitlines()
    assert Path(first) == ROOT / "geomcore" / "__init__.py"  # the checkout under test
    assert [row.split()[0] for row in rows] == ["blobs-4", "circles-2d", "circles-3d",
                                                "circles-4d", "circles-relu", "sine-2",
                                                "spirals-3"]
    assert all("not recorded" in row for row in rows)
