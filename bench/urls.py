"""The product's URLs plus the Django REST framework peer (bench/drf_peer.py)."""

from django.urls import path

from bench import drf_peer
from davinci.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path(
        "bench/drf/facilities/<str:facility_id>/units/<str:unit_number>/",
        drf_peer.unit_lookup,
        name="bench_drf_unit",
    ),
    *product_urlpatterns,
]

handler403 = "davinci.accounts.views.permission_denied"
handler404 = "davinci.accounts.views.page_not_found"
handler500 = "davinci.accounts.views.server_error"
