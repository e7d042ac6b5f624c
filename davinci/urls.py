from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from davinci import health
from davinci.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # For clients that ask the site's root rather than read base.html's <link rel="icon">.
    # Not permanent: the static file's hashed name changes with its content.
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=lazy(static, str)("favicon.ico"))),
        name="favicon",
    ),
    path("accounts/", include("davinci.accounts.urls")),
    # Passkeys: django-otp-webauthn's JSON ceremonies (davinci/accounts/two_factor/webauthn.py).
    path("accounts/passkeys/", include("davinci.accounts.two_factor.webauthn")),
    path("facilities/", include("facilities.urls")),
    path("integrations/webhooks/", include("webhooks.urls")),
    # Integrations → Automations (its own app, under the Integrations tabs).
    path("integrations/automations/", include("automations.urls")),
    path("integrations/", include("integrations.urls")),
    path("team/", include("team.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("integrations.api.urls")),
    path("release/", include("facilities.release.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "davinci.accounts.views.permission_denied"
handler404 = "davinci.accounts.views.page_not_found"
handler500 = "davinci.accounts.views.server_error"
