"""`make audit`: pip-audit over requirements/dev.txt (every locked package, runtime and dev),
asking PyPI's vulnerability data, and a summary a person can act on.

Exit 0: every package audited, no known vulnerability. 1: a known vulnerability (each is
listed with the versions that fix it: raise the bound in pyproject.toml, `make lock`). 2: the
vulnerability data could not be reached or answered for no package, so nothing was audited
(CI reports this and goes on; a person should run it again where PyPI answers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.txt"


def main() -> int:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "pip-audit"),
            "--disable-pip",
            "--require-hashes",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "-r",
            str(LOCK),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print("audit: pip-audit could not query the vulnerability data:", file=sys.stderr)
        print(result.stderr.strip()[-2000:], file=sys.stderr)
        return 2
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            package = f"{dep['name']} {dep['version']}"
            print(f"VULNERABLE {package}: {vuln['id']} ({aliases}) fixed in {fixes}")
    print(
        f"audit: {len(audited)} of {len(dependencies)} locked packages audited, "
        f"{len(vulnerable)} with known vulnerabilities, {len(skipped)} not audited."
    )
    if skipped:
        reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
        print(f"audit: not audited because: {'; '.join(reasons)}")
    if vulnerable:
        return 1
    if not audited:
        print("audit: nothing could be audited: PyPI's vulnerability data did not answer.")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
