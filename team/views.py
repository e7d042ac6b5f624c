"""Team (top navigation, owners and Client Admins): the user list, Add User (an invitation),
the edit page ending in "Save Changes", and the invitation link that sets a new user's
password and accepts.

A member outside the editor's view (another account, or wider facility access than a
restricted editor's own) is a 404; one the editor may see but not edit is a 403. An
invitation to someone who already has a user shows only the address typed until accepted.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from davinci.accounts import services as account_services
from davinci.accounts.decorators import account_required, confirm_page, recently_confirmed
from davinci.accounts.middleware import SESSION_KEY
from davinci.accounts.models import Membership
from davinci.accounts.permissions import MANAGES_USERS
from davinci.accounts.two_factor.services import has_two_factor, two_factor_policy_set
from davinci.forms import add_service_error, posted
from davinci.net import client_ip
from facilities.models import Facility
from facilities.querysets import first_names_of
from team import services
from team.forms import MemberForm, OwnershipForm, TwoFactorPolicyForm
from team.tokens import invitation_token

manages_users = account_required(*MANAGES_USERS)
MEMBERS_PER_PAGE = 100


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _members(request: HttpRequest):
    # An expired invitation is gone, whether or not the clean-up has run.
    return Membership.objects.visible_to(request.membership).current().select_related("user")


def _get_member(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(_members(request).select_related("account"), pk=pk)


def _member_prompt(request: HttpRequest, confirm_form, pk: int) -> HttpResponse:
    """A member outside the editor's view is a 404 before anything is asked."""
    _get_member(request, pk)
    return confirm_page(request, confirm_form)


@require_safe
@manages_users
def member_list(request: HttpRequest) -> HttpResponse:
    """Every user the editor sees, in two queries whatever the size: the count, and the page
    with whether each has two-factor and what their facilities are (the first three names
    and how many: a member may have thousands)."""
    members = _members(request).annotate(
        two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)),
        facility_count=Facility.objects.chosen_count("memberships", row_field="membership"),
        **Facility.objects.first_names_chosen_by("memberships", row_field="membership"),
    )
    members = members.order_by("-is_active", "user__name", "user__email", "pk")
    # (Invited rows show the address typed only: the template never reads their user.)
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    for member in page.object_list:
        member.first_facilities = first_names_of(member)
    context = {"page": page, "policy_form": TwoFactorPolicyForm(instance=request.account)}
    return render(request, "team/member_list.html", context)


@require_POST
@manages_users
@recently_confirmed
def two_factor_policy(request: HttpRequest) -> HttpResponse:
    """The owner requires two-factor of everyone in the account, or stops requiring it."""
    if not request.membership.is_owner:
        raise PermissionDenied("Only the owner decides whether two-factor is required.")
    form = TwoFactorPolicyForm(request.POST)
    if form.is_valid():
        required = form.cleaned_data["two_factor_required"]
        if required and not has_two_factor(request.user):
            messages.error(
                request,
                "Turn on two-factor for yourself first (Your account → Two-factor "
                "authentication): requiring it would send you to set it up too.",
            )
            return redirect("team:member_list")
        two_factor_policy_set(
            account=request.account, required=required, actor=request.user, ip=client_ip(request)
        )
        messages.success(
            request,
            "Two-factor is now required: members without it set it up at their next request."
            if required
            else "Two-factor is no longer required (members may keep theirs on).",
        )
    return redirect("team:member_list")


@require_POST
@manages_users
@recently_confirmed(prompt=_member_prompt)
def member_two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member(request, pk)
    try:
        done = services.member_two_factor_reset(
            membership=member, editor=request.membership, ip=client_ip(request)
        )
    except ValidationError as exc:
        if exc.code == "cannot_edit":
            raise PermissionDenied(exc.messages[0]) from None
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Two-factor of {member.user.email} is reset: they sign in with their password "
            "and set it up again. We emailed them."
            if done
            else f"{member.user.email} has no two-factor to reset.",
        )
    return redirect("team:member_edit", pk=member.pk)


@require_http_methods(["GET", "POST"])
@manages_users
def member_add(request: HttpRequest) -> HttpResponse:
    form = MemberForm(posted(request), editor=request.membership)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.member_add(
                account=request.account,
                editor=request.membership,
                **form.service_kwargs(),
                ip=client_ip(request),
                site_url=_site_url(request),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            # The same words whether or not the address already had a user.
            messages.success(
                request,
                f"{membership.email_shown} is invited as {membership.get_role_display()}. "
                "We emailed them the invitation: they are a member once they accept it.",
            )
            return redirect("team:member_list")
    return render(request, "team/member_form.html", {"form": form})


def _member_context(member: Membership, **context) -> dict:
    """What the edit page shows of a member's sign-in: nothing for an invitation."""
    if member.hides_person():
        return {"member": member, **context}
    return {
        "member": member,
        "member_two_factor": has_two_factor(member.user),
        "two_factor_refusal": member.two_factor_reset_refusal(),
        **context,
    }


@require_http_methods(["GET", "POST"])
@manages_users
@recently_confirmed(prompt=_member_prompt, methods=("POST",))
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member(request, pk)
    refusal = request.membership.edit_refusal(member)
    if refusal:
        raise PermissionDenied(refusal)
    if member.hides_person():
        if request.method == "POST":
            raise PermissionDenied("An invitation is not edited: withdraw it and invite again.")
        return render(request, "team/invitation_detail.html", _member_context(member))
    form = MemberForm(posted(request), editor=request.membership, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.member_update(
                membership=member,
                editor=request.membership,
                **form.service_kwargs(),
                ip=client_ip(request),
                site_url=_site_url(request),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Changes saved." if changed else "Nothing to change.")
            return redirect("team:member_list")
    context = _member_context(member, form=form, ownership_form=OwnershipForm())
    return render(request, "team/member_form.html", context)


@require_POST
@manages_users
def member_invite_again(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member(request, pk)
    try:
        services.member_invite_again(
            membership=member,
            editor=request.membership,
            ip=client_ip(request),
            site_url=_site_url(request),
        )
    except ValidationError as exc:
        if exc.code == "cannot_edit":
            raise PermissionDenied(exc.messages[0]) from None
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"A new invitation is on its way to {member.email_shown}.")
    return redirect("team:member_edit", pk=member.pk)


@require_POST
@manages_users
def member_invitation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member(request, pk)
    try:
        services.member_invitation_withdraw(
            membership=member, editor=request.membership, ip=client_ip(request)
        )
    except ValidationError as exc:
        if exc.code == "cannot_edit":
            raise PermissionDenied(exc.messages[0]) from None
        messages.error(request, " ".join(exc.messages))
        return redirect("team:member_edit", pk=member.pk)
    messages.success(request, f"The invitation of {member.email_shown} is withdrawn.")
    return redirect("team:member_list")


@require_POST
@manages_users
@recently_confirmed(prompt=_member_prompt)
def ownership_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member(request, pk)
    if not request.membership.is_owner:
        raise PermissionDenied("Only the owner can hand ownership over.")
    form = OwnershipForm(request.POST)
    if form.is_valid():
        try:
            services.ownership_transfer(editor=request.membership, to=member, ip=client_ip(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"{member.user.email} is the owner now; you are a Client Admin."
            )
            return redirect("team:member_list")
    if member.hides_person():
        messages.error(request, "Hand ownership only to an active user.")
        return redirect("team:member_edit", pk=member.pk)
    edit_form = MemberForm(editor=request.membership, member=member)
    context = _member_context(member, form=edit_form, ownership_form=form)
    return render(request, "team/member_form.html", context)


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """A new user's one-time link: Django's own set-password view with the invitation token,
    for one membership of that user. Setting the password is the new user's yes to that
    invitation (and to no other). A used, expired or made-up link, or one whose invitation
    was withdrawn or expired, gets the same page, so it tells nothing about whether the
    address has an account. Signs the user in once the password is set."""

    template_name = "team/invitation_accept.html"
    token_generator = invitation_token
    post_reset_login = True
    success_url = reverse_lazy("home")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None:
            return None
        answerable = Membership.objects.current().filter(pk=self.kwargs["membership"], user=user)
        return user if answerable.exists() else None

    def form_valid(self, form):
        response = super().form_valid(form)
        membership = Membership.objects.get(pk=self.kwargs["membership"])
        if membership.is_invited:
            account_services.membership_accept(
                membership_id=membership.pk, user=form.user, ip=client_ip(self.request)
            )
        self.request.session[SESSION_KEY] = membership.account_id
        messages.success(
            self.request,
            f"Your password is set. Welcome to {membership.account.name} on DaVinci Lock.",
        )
        return response


invitation_accept = login_not_required(InvitationAcceptView.as_view())
