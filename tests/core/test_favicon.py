"""The site's icon: every page names it, and /favicon.ico (asked by browsers and other
clients that read no HTML) answers with it rather than a 404."""

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse


def test_favicon_ico_is_the_static_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("favicon.ico")
    assert finders.find("favicon.ico")


def test_every_page_names_the_icon(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in page
    assert finders.find("favicon.svg")
