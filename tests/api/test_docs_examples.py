"""/api/docs/ for a signed-in member: the examples name a real Facility ID of their account
(the first one included in the API that they may see); for anyone else, the placeholder.
And docs/api.md's walk-through against `make run`, run as written against a live server with
the demo data: it does what its comments say."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from facilities.models import Lock, LockEvent, LockStatus, Unit
from integrations.api.openapi import EXAMPLE_FACILITY_ID
from integrations.models import ApiKey

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"

DOCS = reverse("api:docs")


def test_anonymous_readers_see_the_placeholder_facility_id(client, world):
    body = client.get(DOCS).content.decode()
    assert EXAMPLE_FACILITY_ID in body
    assert world.facility.facility_id not in body


def test_a_signed_in_owner_sees_their_first_included_facility(owner_client, world):
    body = owner_client.get(DOCS).content.decode()
    # Harbor Airport is excluded; Harbor Downtown comes before Harbor Eastside.
    assert f"/facilities/{world.facility.facility_id}/units/" in body
    assert EXAMPLE_FACILITY_ID not in body
    assert world.excluded.facility_id not in body and world.rival.facility_id not in body
    assert "use the Facility ID of Harbor Downtown" in body


def test_a_member_of_one_facility_sees_that_one(facility_restricted_client, world, second_facility):
    body = facility_restricted_client.get(DOCS).content.decode()
    assert f"/facilities/{second_facility.facility_id}/" in body
    assert world.facility.facility_id not in body


def test_an_account_with_nothing_in_the_api_keeps_the_placeholder(owner_client, world):
    world.facility.account.facilities.update(include_in_api=False)
    assert EXAMPLE_FACILITY_ID in owner_client.get(DOCS).content.decode()


# --- docs/api.md: "Try it against `make run`" ------------------------------------------------


def _walk_through() -> list[str]:
    """The shell blocks of the section, in order: the lookups, then the writes."""
    text = API_MD.read_text()
    section = text.split("\n## Try it against `make run`\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


@pytest.mark.django_db(transaction=True)
def test_the_walk_through_against_make_run_does_what_it_says(live_server, tmp_path):
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out)
    exports = dict(re.findall(r"export (DAVINCI_API_\w+)=(\S+)", out.getvalue()))
    lookups, writes = _walk_through()
    # The reader pastes the exports make run printed and sets API to its address: here, the
    # live server's.
    lookups = "\n".join(
        line for line in lookups.splitlines() if not line.startswith(("export DAVINCI", "API="))
    )
    mail.outbox = []
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", f"set -eo pipefail\n{lookups}\n{writes}"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "API": f"{live_server.url}/api/v1", **exports},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    # The lookups, as their comments say.
    assert "Harbor Downtown" in output and "Harbor Airport" not in output
    assert '"unlock_code_withheld": "assigned_auction"' in output.replace('":"', '": "')
    for code in ("missing_credentials", "invalid_parameter", "not_found", "method_not_allowed"):
        assert code in output

    # The writes: 200, the replay of the same bytes, 409, the status, the two refusals.
    answers = re.findall(r"^HTTP/1\.[01] (\d{3})", output, re.MULTILINE)
    assert answers == ["401", "200", "200", "409"]
    assert output.count("Idempotent-Replayed: true") == 1
    assert "release-2.json: the same bytes as release-1.json" in output
    assert "invalid_transition" in output and "returned_to_dropbox" in output
    assert "idempotency_key_required" in output and "unsupported_media_type" in output

    demo_key = ApiKey.objects.get(name="Demo Call Center")
    unit = Unit.objects.get(facility__name="Harbor Downtown", unit_number="A114")
    lock = Lock.objects.get(unit=unit)
    assert lock.status == LockStatus.TENANT_USING_LOCK
    released = LockEvent.objects.filter(lock=lock, kind=LockEvent.Kind.RELEASED)
    assert [(e.api_key, e.actor_type) for e in released] == [(demo_key, "api_key")]
    assert (
        LockEvent.objects.filter(
            lock=lock, kind=LockEvent.Kind.STATUS_CHANGED, api_key=demo_key
        ).count()
        == 1
    )
    # One notice to the tenant, with the code: the release, not its replay.
    notices = [m for m in mail.outbox if m.to == [unit.tenant_email]]
    assert len(notices) == 1 and lock.unlock_code in notices[0].body
