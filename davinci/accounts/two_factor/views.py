"""Your account → Two-factor authentication (set up, recovery codes, passkeys, turn off) and
the sign-in's second step. Every change asks @recently_confirmed first."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential

from davinci.accounts import services as account_services
from davinci.accounts import throttle
from davinci.accounts.decorators import confirm_page, confirmation_recent, recently_confirmed
from davinci.accounts.two_factor import services
from davinci.accounts.two_factor.forms import CodeForm, PasskeyNameForm, SetupCodeForm
from davinci.accounts.two_factor.sign_in import pending_user, sign_in_complete
from davinci.net import client_ip


def _passkeys(request: HttpRequest):
    return WebAuthnCredential.objects.filter(user=request.user).order_by("created_at", "pk")


@require_safe
def two_factor(request: HttpRequest) -> HttpResponse:
    """The overview: on or off, recovery codes left, passkeys."""
    context = {
        "enabled": services.has_two_factor(request.user),
        "codes_left": services.recovery_codes_left(request.user),
        "passkeys": _passkeys(request),
        "may_add_passkey": confirmation_recent(request),
    }
    return render(request, "accounts/two_factor.html", context)


def _codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


def _setup_context(request: HttpRequest, device, form) -> dict:
    """The QR code, drawn here as inline SVG (the strict CSP allows it, nothing leaves the
    server), and the same key as text in groups of four."""
    key = b32encode(device.bin_key).decode()
    return {
        "form": form,
        "key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(
            scale=4, title="QR code of the key for your authenticator app"
        ),
        "policy_forced": request.account is not None and request.account.two_factor_required,
    }


@sensitive_variables()
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@recently_confirmed
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """The authenticator app: a QR code drawn here (inline SVG) and the key as text, then the
    app's first code turns two-factor on and shows the recovery codes, once."""
    if services.has_two_factor(request.user):
        return redirect("accounts:two_factor")
    device = services.totp_device_pending(user=request.user)
    form = SetupCodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        codes = services.totp_confirm(
            user=request.user,
            device=device,
            token=form.cleaned_data["code"].strip(),
            ip=client_ip(request),
        )
        if codes is not None:
            otp_login(request, device)
            user = account_services.sessions_end_others(user=request.user)
            update_session_auth_hash(request, user)
            messages.success(request, "Two-factor authentication is on.")
            return _codes_page(request, codes)
        form.add_error("code", "That code is not right. Check the app's clock and try again.")
    return render(request, "accounts/two_factor_setup.html", _setup_context(request, device, form))


@require_POST
@recently_confirmed
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if not services.has_two_factor(request.user):
        return redirect("accounts:two_factor")
    codes = services.recovery_codes_regenerate(user=request.user, ip=client_ip(request))
    messages.success(request, "New recovery codes are made; the old ones no longer work.")
    return _codes_page(request, codes)


@require_POST
@recently_confirmed
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    if services.two_factor_disable(user=request.user, ip=client_ip(request)):
        messages.success(request, "Two-factor authentication is off.")
    return redirect("accounts:two_factor")


@require_safe
@recently_confirmed
def passkey_add(request: HttpRequest) -> HttpResponse:
    """Once confirmed, the overview offers the browser's passkey prompt."""
    return redirect("accounts:two_factor")


@require_POST
def passkey_rename(request: HttpRequest, pk: int) -> HttpResponse:
    credential = get_object_or_404(_passkeys(request), pk=pk)
    form = PasskeyNameForm(request.POST)
    if form.is_valid():
        services.passkey_rename(credential=credential, name=form.cleaned_data["name"])
        messages.success(request, "The passkey is renamed.")
    else:
        messages.error(request, " ".join(form.errors["name"]))
    return redirect("accounts:two_factor")


def _passkey_prompt(request: HttpRequest, confirm_form, pk: int) -> HttpResponse:
    """Someone else's passkey is a 404 before anything is asked."""
    get_object_or_404(_passkeys(request), pk=pk)
    return confirm_page(request, confirm_form)


@require_POST
@recently_confirmed(prompt=_passkey_prompt)
def passkey_remove(request: HttpRequest, pk: int) -> HttpResponse:
    credential = get_object_or_404(_passkeys(request), pk=pk)
    services.passkey_remove(user=request.user, credential=credential, ip=client_ip(request))
    messages.success(request, f"The passkey “{credential.name}” is removed.")
    return redirect("accounts:two_factor")


# --- The sign-in's second step ----------------------------------------------------------------


@sensitive_post_parameters("code")
@never_cache
@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in_second_step(request: HttpRequest) -> HttpResponse:
    """A code of the authenticator app, a recovery code (once), or a passkey. Codes are
    counted before they are checked, per user and per client IP, like passwords."""
    user = pending_user(request)
    if user is None:
        messages.info(request, "Sign in again: it took too long, or the sign-in was not started.")
        return redirect("accounts:login")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        attempt = throttle.second_factor_attempt(user_id=user.pk, ip=client_ip(request))
        if attempt.retry_after:
            form.add_error(
                "code",
                f"Too many wrong codes. Try again in {-(-attempt.retry_after // 60)} minute(s).",
            )
        else:
            device = services.second_factor_verify(
                user=user, token=form.cleaned_data["code"], ip=client_ip(request)
            )
            if device is not None:
                attempt.succeeded()
                return redirect(sign_in_complete(request=request, user=user, device=device))
            if attempt.reaching:  # the account's Activity log says sign-in is paused
                account_services.sign_in_throttled_record(
                    email=user.email, ip=client_ip(request), limits=list(attempt.reaching)
                )
            form.add_error("code", "That code is not right. Check it and try again.")
    context = {
        "form": form,
        "has_passkeys": WebAuthnCredential.objects.filter(user=user, confirmed=True).exists(),
    }
    return render(request, "accounts/sign_in_second_step.html", context)
