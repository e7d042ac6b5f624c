from django.contrib import admin
from django.urls import include, path

from davinci import health
from davinci.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("davinci.accounts.urls")),
    # Passkeys: django-otp-webauthn's JSON ceremonies (davinci/accounts/two_factor/webauthn.py).
    path("accounts/passkeys/", include("davinci.accounts.two_factor.webauthn")),
    path("facilities/", include("facilities.urls")),
    path("integrations/", include("integrations.urls")),
    path("team/", include("team.urls")),
    path("api/", include("integrations.api.urls")),
    path("release/", include("facilities.release.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "davinci.accounts.views.permission_denied"
handler404 = "davinci.accounts.views.page_not_found"
handler500 = "davinci.accounts.views.server_error"
