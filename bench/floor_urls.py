from django.urls import path

from bench import floor

urlpatterns = [
    path("bench/floor/facilities/<str:facility_id>/units/<str:unit_number>/", floor.unit_lookup),
]
