from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from davinci.accounts.forms import PasswordResetRequestForm, SignInForm, SwitchAccountForm
from davinci.accounts.middleware import SESSION_KEY
from davinci.accounts.models import Membership
from davinci.net import next_path


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}


def home(request: HttpRequest) -> HttpResponse:
    return redirect("facilities:facility_list")


@require_POST
def switch_account(request: HttpRequest) -> HttpResponse:
    form = SwitchAccountForm(request.POST)
    if not form.is_valid():
        raise Http404("No such account.")
    membership = get_object_or_404(
        Membership.objects.select_related("account"),
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
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
