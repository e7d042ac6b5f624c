"""The JSON lookup API for call centers, mounted at /api/."""

app_name = "api"

urlpatterns: list = []
