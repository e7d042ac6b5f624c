from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from davinci.accounts import permissions, services
from davinci.accounts.decorators import account_required, recently_confirmed
from davinci.accounts.forms import (
    AccountTimeZoneForm,
    EmailChangeForm,
    HistoryRetentionForm,
    PasswordResetRequestForm,
    ProfileForm,
    SignInForm,
    SwitchAccountForm,
)
from davinci.accounts.middleware import SESSION_KEY
from davinci.accounts.models import Membership, Role
from davinci.accounts.permissions import MANAGES_INTEGRATIONS
from davinci.accounts.two_factor.services import has_two_factor
from davinci.accounts.two_factor.sign_in import pending_start
from davinci.net import client_ip, next_path
from davinci.outbox.after_response import RedirectThenDispatch


class SignInView(auth_views.LoginView):
    """The password; a user with two-factor then gives their second factor
    (two_factor.views.sign_in_second_step) before they are signed in."""

    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not has_two_factor(user):
            return super().form_valid(form)
        pending_start(request=self.request, user=user, next_url=self.get_success_url())
        return redirect("accounts:sign_in_second_step")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's own, its email queued for every address and handed on once the answer is
    out (davinci/accounts/password_reset.py)."""

    form_class = PasswordResetRequestForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        notice = form.save(use_https=self.request.is_secure(), request=self.request)
        return RedirectThenDispatch(self.get_success_url(), notice=notice)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("facilities:facility_list")


@require_POST
def switch_account(request: HttpRequest) -> HttpResponse:
    form = SwitchAccountForm(request.POST)
    if not form.is_valid():
        raise Http404("No such account.")
    membership = get_object_or_404(
        Membership.objects.accepted().filter(is_active=True).select_related("account"),
        user=request.user,
        account_id=form.cleaned_data["account"],
    )
    request.session[SESSION_KEY] = membership.account_id
    messages.success(request, f"You are now working in {membership.account}.")
    return redirect(next_path(request, default=reverse("home")))


@login_not_required
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if isinstance(exception, PermissionDenied) and str(exception) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


@login_not_required
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the database may be the reason we are here.
    return HttpResponse(loader.get_template("500.html").render(), status=500)


# --- Your account -----------------------------------------------------------------------------


def _your_account(request: HttpRequest, **forms) -> HttpResponse:
    membership = request.membership
    context = {
        "profile_form": ProfileForm(initial={"name": request.user.name}),
        "email_form": EmailChangeForm(user=request.user),
        "two_factor_enabled": has_two_factor(request.user),
        "invitation_count": Membership.objects.invitations().filter(user=request.user).count(),
        "time_zone_form": (
            AccountTimeZoneForm(initial={"time_zone": request.account.time_zone})
            if membership is not None and permissions.can_manage_integrations(membership.role)
            else None
        ),
        "retention_form": (
            HistoryRetentionForm(
                initial={"history_retention_months": request.account.history_retention_months}
            )
            if membership is not None and membership.is_owner
            else None
        ),
        **forms,
    }
    return render(request, "accounts/your_account.html", context)


@require_http_methods(["GET", "POST"])
def your_account(request: HttpRequest) -> HttpResponse:
    """Name (here), email (email_change), password (Django's view), other sessions."""
    if request.method == "GET":
        return _your_account(request)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _your_account(request, profile_form=form)
    changed = services.user_profile_update(user=request.user, name=form.cleaned_data["name"])
    messages.success(request, "Your name is saved." if changed else "Nothing to change.")
    return redirect("accounts:your_account")


@require_POST
@account_required(*MANAGES_INTEGRATIONS)
def account_time_zone(request: HttpRequest) -> HttpResponse:
    form = AccountTimeZoneForm(request.POST)
    if not form.is_valid():
        return _your_account(request, time_zone_form=form)
    time_zone = form.cleaned_data["time_zone"]
    changed = services.account_time_zone_set(account=request.account, time_zone=time_zone)
    messages.success(
        request,
        f"Times of {request.account.name} are shown in {time_zone} now."
        if changed
        else "Nothing to change.",
    )
    return redirect("accounts:your_account")


@require_POST
@account_required(Role.OWNER)
def account_history_retention(request: HttpRequest) -> HttpResponse:
    form = HistoryRetentionForm(request.POST)
    if not form.is_valid():
        return _your_account(request, retention_form=form)
    months = form.cleaned_data["history_retention_months"]
    changed = services.account_history_retention_set(
        account=request.account, months=months, actor=request.user, ip=client_ip(request)
    )
    messages.success(
        request,
        f"History of {request.account.name} is kept for {months} months now."
        if changed
        else "Nothing to change.",
    )
    return redirect("accounts:your_account")


@sensitive_post_parameters("password", "code")
@require_POST
@recently_confirmed
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST, user=request.user)
    if not form.is_valid():
        return _your_account(request, email_form=form)
    email = form.cleaned_data["email"]
    services.email_change_request(
        user=request.user,
        new_email=email,
        site_url=request.build_absolute_uri("/"),
    )
    messages.success(
        request,
        f"We sent a link to {email}. Your email changes when you open it; until then it "
        f"stays {request.user.email}.",
    )
    return redirect("accounts:your_account")


@login_not_required
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the address and a button (mail scanners that open links change nothing);
    POST applies it. A used, expired or altered link gets the same page."""
    pending = services.email_change_pending(token)
    if request.method == "POST" and pending is not None:
        try:
            services.email_change_confirm(token=token)
        except ValidationError:
            pending = None
        else:
            messages.success(request, f"Your email is now {pending[1]}.")
            return redirect("accounts:your_account" if request.user.is_authenticated else "home")
    context = {"new_email": pending[1] if pending else None}
    return render(request, "accounts/email_confirm.html", context, status=200 if pending else 400)


# --- Invitations: the person invited says yes or no ------------------------------------------


@require_safe
def invitations(request: HttpRequest) -> HttpResponse:
    """The open invitations of the signed-in user: the account and the role, Accept or
    Decline. Nothing of an account is theirs, nor anything of them the account's, before
    they accept."""
    pending = (
        Membership.objects.invitations()
        .filter(user=request.user)
        .select_related("account")
        .order_by("invited_at", "pk")
    )
    return render(request, "accounts/invitations.html", {"invitations": pending})


def _open_invitation(request: HttpRequest, pk: int) -> Membership:
    """Only the user's own open invitation: anyone else's, or an answered one, is a 404."""
    return get_object_or_404(Membership.objects.invitations(), pk=pk, user=request.user)


@require_POST
def invitation_accept(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _open_invitation(request, pk)
    try:
        membership = services.membership_accept(
            membership_id=invitation.pk, user=request.user, ip=client_ip(request)
        )
    except ValidationError as exc:  # answered in another tab meanwhile
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:invitations")
    request.session[SESSION_KEY] = membership.account_id
    messages.success(
        request,
        f"You are now a member of {membership.account} as {membership.get_role_display()}.",
    )
    return redirect("home")


@require_POST
def invitation_decline(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _open_invitation(request, pk)
    try:
        account = services.membership_decline(membership_id=invitation.pk, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:invitations")
    messages.success(request, f"You declined the invitation to {account}.")
    return redirect("accounts:invitations")


@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    user = services.sessions_end_others(user=request.user)
    update_session_auth_hash(request, user)
    messages.success(request, "Every other session is signed out. This one stays signed in.")
    return redirect("accounts:your_account")


@method_decorator(recently_confirmed, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own: it keeps this session signed in; the others end with the old password
    (the session hash is made from it). Asks @recently_confirmed first, like every change
    that matters."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:your_account")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed. Other sessions are signed out.")
        return response
