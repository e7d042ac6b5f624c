"""The locks in requirements/ and scripts/venv.sh, which installs them (README, "Dependencies")."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import deps  # noqa: E402


def test_this_venv_holds_exactly_the_dev_lock():
    assert deps.freeze_differences(ROOT / "requirements" / "dev.txt") == []


@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt"])
def test_the_committed_locks_were_compiled_from_pyproject(lock):
    assert deps.check(ROOT / "requirements" / lock) is None


def test_the_runtime_lock_pins_the_same_versions_as_the_dev_lock():
    runtime = deps.locked_pins(ROOT / "requirements" / "runtime.txt")
    dev = deps.locked_pins(ROOT / "requirements" / "dev.txt")
    assert runtime
    assert {name: dev.get(name) for name in runtime} == runtime


def test_tools_that_break_ci_are_pinned_exactly():
    dev = deps.locked_pins(ROOT / "requirements" / "dev.txt")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"ruff=={dev["ruff"]}"' in pyproject
    assert f'"schemathesis=={dev["schemathesis"]}"' in pyproject
    assert dev["schemathesis"].startswith("4.")


def test_a_dependency_added_to_pyproject_makes_the_lock_stale(tmp_path):
    pyproject = (ROOT / "pyproject.toml").read_text()
    changed = tmp_path / "pyproject.toml"
    changed.write_text(pyproject.replace('"redis>=5",', '"redis>=5",\n    "celery[redis]>=5.4",'))
    assert deps.pyproject_digest(changed) != deps.pyproject_digest()
    # Formatting and tool settings do not matter, only what is asked for.
    reformatted = tmp_path / "same.toml"
    reformatted.write_text(pyproject.replace("line-length = 100", "line-length = 99"))
    assert deps.pyproject_digest(reformatted) == deps.pyproject_digest()


def test_install_refuses_a_lock_that_does_not_match_pyproject(tmp_path):
    stale = tmp_path / "stale.txt"
    stale.write_text(f"{deps.HEADER}{'0' * 64}\n")
    result = _venv_sh(tmp_path, LOCK=str(stale), VENV=str(ROOT / ".venv"))
    assert result.returncode == 1
    assert "was not compiled from the current pyproject.toml" in result.stderr
    assert "make lock" in result.stderr


def test_a_venv_without_pip_is_rebuilt_and_says_so(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    lock = tmp_path / "empty.txt"
    lock.write_text(f"{deps.HEADER}{deps.pyproject_digest()}\n")
    result = _venv_sh(tmp_path, LOCK=str(lock), VENV=str(venv))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is broken (it has no pip): removing it and building it again" in result.stdout
    check = subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"], check=False)
    assert check.returncode == 0


def test_a_python_older_than_3_11_is_refused_with_a_message(tmp_path):
    old = tmp_path / "python3.9"
    old.write_text('#!/bin/sh\ncase "$*" in *--version*) echo "Python 3.9.2";; *) exit 1;; esac\n')
    old.chmod(0o755)
    result = _venv_sh(tmp_path, PYTHON=str(old), VENV=str(tmp_path / "never"))
    assert result.returncode == 1
    assert "Python 3.9.2; the portal needs Python 3.11 or newer" in result.stderr
    assert not (tmp_path / "never").exists()


def _venv_sh(tmp_path, **env):
    return subprocess.run(
        [ROOT / "scripts" / "venv.sh", "runtime"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _audit(monkeypatch, capsys, stdout: str) -> tuple[int, str]:
    import audit

    def fake_run(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, stdout=stdout, stderr="ConnectionError")

    monkeypatch.setattr(audit.subprocess, "run", fake_run)
    status = audit.main()
    return status, capsys.readouterr().out


def test_audit_fails_on_a_known_vulnerability_and_names_the_fix(monkeypatch, capsys):
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "5.2.1",
                "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.2"], "aliases": ["CVE-1"]}],
            },
            {"name": "redis", "version": "5.0", "vulns": []},
        ]
    }
    status, out = _audit(monkeypatch, capsys, json.dumps(report))
    assert status == 1
    assert "VULNERABLE django 5.2.1: PYSEC-1 (CVE-1) fixed in 5.2.2" in out


def test_audit_says_when_the_vulnerability_data_cannot_be_reached(monkeypatch, capsys):
    skipped = {"name": "django", "version": "5.2.1", "skip_reason": "Dependency not found"}
    status, out = _audit(monkeypatch, capsys, json.dumps({"dependencies": [skipped]}))
    assert status == 2
    assert "nothing could be audited" in out
    assert _audit(monkeypatch, capsys, "")[0] == 2


def test_audit_passes_when_every_package_is_clean(monkeypatch, capsys):
    clean = {"dependencies": [{"name": "django", "version": "5.2.1", "vulns": []}]}
    status, out = _audit(monkeypatch, capsys, json.dumps(clean))
    assert status == 0
    assert "1 of 1 locked packages audited, 0 with known vulnerabilities" in out
