"""Schemathesis over the whole OpenAPI document, against the server as deployed (gunicorn,
production settings): every phase (examples, coverage, fuzzing, and the stateful phase that
follows the document's links from the facility list to units and locks), every check. Zero
server errors and zero schema violations.

tests/api/test_schemathesis.py runs it against the development live server with more examples;
this run is the production configuration's. API_FUZZ_EXAMPLES widens it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).resolve().parents[1] / "api" / "schemathesis.toml"


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
def test_schemathesis_all_phases_against_production(production_server, tmp_path):
    base = f"http://127.0.0.1:{production_server.port}"
    command = [
        str(SCHEMATHESIS),
        *(["--config-file", str(CONFIG)] if CONFIG.exists() else []),
        "run",
        f"{base}/api/v1/openapi.json",
        "--url",
        f"{base}/api/v1",
        "--header",
        "X-Forwarded-Proto: https",
        "--header",
        f"X-API-Key: {production_server.api_key}",
        "--header",
        f"X-API-Secret: {production_server.secret}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        os.environ.get("API_FUZZ_EXAMPLES", "50"),
        "--seed",
        os.environ.get("API_FUZZ_SEED", "7"),
        # One worker: with two threads, hypothesis's ast.parse of a filter's source hits
        # CPython 3.11's "AST constructor recursion depth mismatch" SystemError.
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output, output[-3000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, f"the {phase} phase did not run and pass:\n{output[-3000:]}"
    links = re.search(r"API Links:\s+(\d+) covered", output)
    assert links and int(links.group(1)) >= 4, "the stateful phase followed too few links"
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated and generated.group(1) == generated.group(2), output[-3000:]
