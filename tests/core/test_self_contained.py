"""The repository stands alone: no tracked file points to notes kept outside it (a design
document or a style guide one folder up). What they said that matters is in docs/."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Spelled apart, so that this file does not name them itself.
OUTSIDE = ("DESIGN" + ".md", "STYLE" + ".md", "../" + "shared")


def tracked_files() -> list[Path]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in listed.stdout.decode().split("\0") if name]


def test_no_tracked_file_points_outside_the_repository():
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found += [
            f"{path.relative_to(ROOT)}:{number}: {name}"
            for number, line in enumerate(text.splitlines(), 1)
            for name in OUTSIDE
            if name in line
        ]
    assert found == []


def test_the_check_sees_a_mention():
    assert any(name in 'see "../' + "shared/DESIGN" + '.md"' for name in OUTSIDE)
