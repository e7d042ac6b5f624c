"""seed_demo leaves a demo API key whose exports the README's curl examples use."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command
from django.test import Client

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
