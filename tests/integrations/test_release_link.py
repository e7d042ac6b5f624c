from django.urls import reverse


def test_facilities_tab_links_the_release_page_and_its_activity(owner_client, account, facility):
    body = owner_client.get(reverse("integrations:facility_list")).content.decode()
    assert reverse("release:page", kwargs={"account_slug": account.slug}) in body
    assert reverse("facilities:release_activity") in body


def test_a_unicode_digit_facility_id_is_a_form_error(owner_client, facility):
    response = owner_client.post(
        reverse("integrations:api_key_create"),
        {"name": "Call Center", "facilities": "²"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["facilities"]
