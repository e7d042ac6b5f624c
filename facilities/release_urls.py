"""The public overlock-release page, mounted at /release/."""

app_name = "release"

urlpatterns: list = []
