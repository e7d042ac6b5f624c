"""The dependency locks in requirements/ and the checks that keep them true.

    python scripts/deps.py stamp requirements/dev.txt ...   after `uv pip compile` (make lock)
    python scripts/deps.py check requirements/dev.txt ...   before installing (make run/test)
    python scripts/deps.py freeze-check requirements/dev.txt   the venv holds exactly the lock

Each lock carries, in its first line, a digest of what pyproject.toml asks for (requires-python,
dependencies and optional-dependencies). When someone adds a dependency to pyproject.toml and
forgets `make lock`, `check` stops the install with a message instead of letting the venv
drift from pyproject.toml.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
HEADER = "# pyproject.toml dependencies sha256: "
# What `python -m venv` puts in every venv; only compared when the lock names them.
VENV_SEEDS = {"pip", "setuptools", "wheel", "distribute"}
# A lock line "name[extras]==version ; marker \\", as uv writes them.
_PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\#]+?))?\s*\\?$"
)


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_digest(path: Path = PYPROJECT) -> str:
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    wanted = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {
            extra: sorted(reqs) for extra, reqs in project.get("optional-dependencies", {}).items()
        },
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    first = lock.read_text(encoding="utf-8").split("\n", 1)[0]
    return first.removeprefix(HEADER).strip() if first.startswith(HEADER) else None


def stamp(lock: Path) -> None:
    text = lock.read_text(encoding="utf-8")
    if text.startswith(HEADER):
        text = text.split("\n", 1)[1]
    lock.write_text(f"{HEADER}{pyproject_digest()}\n{text}", encoding="utf-8")


def check(lock: Path) -> str | None:
    """None when the lock was compiled from the current pyproject.toml, else what is wrong."""
    if not lock.exists():
        return f"{lock.name} is missing: run `make lock` and commit requirements/."
    if recorded_digest(lock) != pyproject_digest():
        return (
            f"requirements/{lock.name} was not compiled from the current pyproject.toml "
            "(a dependency was added, removed or changed since). Run `make lock`, review the "
            "diff of requirements/ and commit it."
        )
    return None


def locked_pins(lock: Path) -> dict[str, str]:
    """{canonical name: version} for the lines of the lock that apply to this interpreter."""
    from packaging.markers import Marker

    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if not match:
            continue
        name, version, marker = match.groups()
        if marker and not Marker(marker).evaluate():
            continue
        pins[canonical_name(name)] = version
    return pins


def installed() -> dict[str, str]:
    """`pip freeze --all` of this interpreter."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    frozen = {}
    for line in out.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            frozen[canonical_name(name)] = version.strip()
    return frozen


def freeze_differences(lock: Path) -> list[str]:
    want, have = locked_pins(lock), installed()
    for name in VENV_SEEDS - want.keys():
        have.pop(name, None)
    problems = []
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            problems.append(f"{name}=={want[name]} is locked but not installed")
        elif name not in want:
            problems.append(f"{name}=={have[name]} is installed but not in {lock.name}")
        elif want[name] != have[name]:
            problems.append(f"{name}: {have[name]} installed, {want[name]} locked")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in {"stamp", "check", "freeze-check"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, locks = argv[0], [Path(arg) for arg in argv[1:]]
    status = 0
    for lock in locks:
        if command == "stamp":
            stamp(lock)
        elif command == "check":
            if problem := check(lock):
                print(f"make: {problem}", file=sys.stderr)
                status = 1
        else:
            problems = freeze_differences(lock)
            for problem in problems:
                print(f"pip freeze vs {lock}: {problem}", file=sys.stderr)
            if problems:
                status = 1
            else:
                print(f"pip freeze matches {lock} ({len(locked_pins(lock))} packages)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
