"""seed_demo leaves a demo API key whose exports the README's curl examples use."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command
from django.test import Client

from facilities.models import LockEvent
from integrations.models import ApiKey


def _seed() -> dict[str, str]:
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return dict(re.findall(r"export (DAVINCI_API_KEY|DAVINCI_API_SECRET)=(\S+)", out.getvalue()))


def test_seed_demo_prints_a_working_demo_key_and_the_same_one_again(db):
    first = _seed()
    assert first["DAVINCI_API_KEY"].startswith("dvk_")
    assert first["DAVINCI_API_SECRET"].startswith("dvs_")
    assert _seed() == first
    assert ApiKey.objects.filter(name="Demo Call Center").count() == 1

    client = Client()
    headers = {
        "HTTP_X_API_KEY": first["DAVINCI_API_KEY"],
        "HTTP_X_API_SECRET": first["DAVINCI_API_SECRET"],
    }
    facilities = client.get("/api/v1/facilities/", **headers).json()["data"]
    # Harbor's two facilities included in the API; Harbor Airport is excluded.
    assert [f["name"] for f in facilities] == ["Harbor Downtown", "Harbor Eastside"]
    units = client.get(f"/api/v1/facilities/{facilities[0]['facility_id']}/units/", **headers)
    first_unit = units.json()["data"][0]
    unit = client.get(
        f"/api/v1/facilities/{facilities[0]['facility_id']}/units/{first_unit['unit_number']}/",
        **headers,
    )
    assert unit.status_code == 200
    assert re.fullmatch(r"[0-9]{4}", unit.json()["data"]["lock"]["unlock_code"] or "0000")


def test_every_released_demo_unit_answers_with_its_code_and_records_it(db):
    """B137 and every other released demo unit: Returned to Dropbox, on the unit, with a code."""
    exports = _seed()
    headers = {
        "HTTP_X_API_KEY": exports["DAVINCI_API_KEY"],
        "HTTP_X_API_SECRET": exports["DAVINCI_API_SECRET"],
    }
    client = Client()
    looked_up = 0
    for facility in client.get("/api/v1/facilities/", **headers).json()["data"]:
        base = f"/api/v1/facilities/{facility['facility_id']}/units/"
        released = client.get(f"{base}?status=returned_to_dropbox", **headers).json()["data"]
        assert "B137" in [row["unit_number"] for row in released]
        for row in released:
            lock = client.get(f"{base}{row['unit_number']}/", **headers).json()["data"]["lock"]
            assert lock["status"] == "returned_to_dropbox"
            assert lock["unit_number"] == row["unit_number"]
            assert re.fullmatch(r"[0-9]{4}", lock["unlock_code"])
            looked_up += 1
    assert looked_up == 12  # six released units in each of the key's two facilities
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).count() == looked_up


def test_seed_demo_prints_the_curl_line_for_the_address_make_run_serves_on(db):
    out = StringIO()
    call_command("seed_demo", force=True, base_url="http://127.0.0.1:8080", stdout=out)
    assert "http://127.0.0.1:8080/api/v1/facilities/" in out.getvalue()
    assert ":8000" not in out.getvalue()


def test_the_demo_key_may_read_release_and_set_status_also_in_an_older_demo_database(db):
    _seed()
    key = ApiKey.objects.get(name="Demo Call Center")
    assert key.permissions == ["read", "release", "set_status"]
    # A demo database seeded before permissions existed: its key got `read` by migration.
    key.permissions = ["read"]
    key.save(update_fields=["permissions"])
    _seed()
    key.refresh_from_db()
    assert key.permissions == ["read", "release", "set_status"]
    # One given in the portal since stays: seed_demo adds, it does not take away.
    key.permissions = ["read", "events"]
    key.save(update_fields=["permissions"])
    _seed()
    key.refresh_from_db()
    assert key.permissions == ["read", "release", "set_status", "events"]
