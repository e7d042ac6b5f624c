"""Settings of the whole-job floor server (bench/floor.py): the bench settings with no
middleware at all and a URL configuration of one route."""

from bench.settings import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor_urls"
