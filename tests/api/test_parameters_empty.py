import pytest
from django.urls import reverse

from tests.factories import ApiKeyFactory


@pytest.mark.parametrize("query", ["limit=", "status="])
def test_an_empty_limit_or_status_is_an_invalid_parameter(client, facility, query):
    key = ApiKeyFactory(account=facility.account)
    url = reverse("api:unit_list", kwargs={"facility_id": facility.facility_id}) + "?" + query
    response = client.get(url, HTTP_X_API_KEY=key.api_key, HTTP_X_API_SECRET=key.plain_secret)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


def test_an_empty_q_means_no_search(client, facility):
    key = ApiKeyFactory(account=facility.account)
    url = reverse("api:unit_list", kwargs={"facility_id": facility.facility_id}) + "?q="
    response = client.get(url, HTTP_X_API_KEY=key.api_key, HTTP_X_API_SECRET=key.plain_secret)
    assert response.status_code == 200
