"""The Django admin, for platform staff, behind two-factor: django-otp's OTPAdminSite lets in
only a session verified by a second factor. Staff sign in through the portal's own sign-in
(throttled, with its second step); the admin's login page sends them there, and a staff
member without two-factor is told to set it up under Your account."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite


class TwoFactorAdminSite(OTPAdminSite):
    site_header = "DaVinci Lock administration"
    site_title = "DaVinci Lock admin"

    def __init__(self, name: str = "admin") -> None:
        # OTPAdminSite names itself "otpadmin"; the URL names stay admin:…
        super().__init__(name=name)

    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        target = request.GET.get("next", "")
        if not (
            target.startswith("/")
            and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        ):
            target = reverse("admin:index")
        if self.has_permission(request):
            return redirect(target)
        if request.user.is_authenticated and request.user.is_staff:
            raise PermissionDenied(
                "The Django admin needs two-factor authentication. Set it up under Your "
                "account → Two-factor authentication, then sign out and in again."
            )
        return redirect(reverse("accounts:login") + "?" + urlencode({"next": target}))
