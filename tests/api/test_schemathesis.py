"""Acceptance 4: schemathesis fuzzes the API from its own OpenAPI document against a live
server (every check: no 5xx, statuses, content types, headers and bodies as documented,
negative data rejected, auth not ignored, other methods 405). Bounded: about 30 seconds.

API_FUZZ_EXAMPLES (default 30) and API_FUZZ_SEED (default 1) widen or vary the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from facilities.models import UNIT_STATUSES, LockStatus
from tests.factories import ApiKeyFactory, FacilityFactory, LockFactory, UnitFactory, assigned_lock

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _load(account, other_account) -> None:
    """Facilities with units in every unit status, a unit with no lock, inventory locks, an
    excluded facility and another account's: what the fuzzer can reach through the links."""
    for index, name in enumerate(["Harbor Downtown", "Harbor Eastside"]):
        facility = FacilityFactory(account=account, name=name)
        for number, status in enumerate(sorted(LockStatus), start=1):
            unit = UnitFactory(facility=facility, unit_number=f"{'AB'[index]}{100 + number}")
            if status in UNIT_STATUSES:
                assigned_lock(unit, LockStatus(status), serial=f"F{index}{number:06d}")
            else:
                LockFactory(facility=facility, status=status, serial=f"I{index}{number:06d}")
        UnitFactory(facility=facility, unit_number="C300")  # no lock; listed after A101
    excluded = FacilityFactory(account=account, name="Harbor Airport", include_in_api=False)
    assigned_lock(UnitFactory(facility=excluded, unit_number="X1"), serial="XX000001")
    rival = FacilityFactory(account=other_account, name="Rival North")
    assigned_lock(UnitFactory(facility=rival, unit_number="R1"), serial="RR000001")


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
@override_settings(API_RATE_LIMIT_PER_MINUTE=1_000_000, API_AUTH_FAILURE_LIMIT_PER_MINUTE=1_000_000)
def test_schemathesis_finds_nothing(live_server, account, other_account):
    _load(account, other_account)
    key = ApiKeyFactory(
        account=account, permissions=["read", "release", "set_status", "fms_events", "events"]
    )
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--header",
        f"X-API-Key: {key.api_key}",
        "--header",
        f"X-API-Secret: {key.plain_secret}",
        "--checks",
        "all",
        "--max-examples",
        os.environ.get("API_FUZZ_EXAMPLES", "30"),
        "--seed",
        os.environ.get("API_FUZZ_SEED", "1"),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # The five lookups, the three writes and the event feed (schemathesis leaves out the
    # document's own URL).
    assert "Tested: 9" in output, output[-3000:]
