from django.urls import reverse


def test_facilities_tab_links_the_release_page_and_its_activity(owner_client, account, facility):
    body = owner_client.get(reverse("integrations:facility_list")).content.decode()
    assert reverse("release:page", kwargs={"account_slug": account.slug}) in body
    assert reverse("facilities:release_activity") in body
