from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from davinci.accounts.decorators import account_required
from davinci.accounts.models import Role
from integrations.models import ApiKey


@account_required(Role.OWNER, Role.ADMIN)
def api_settings(request: HttpRequest) -> HttpResponse:
    keys = ApiKey.objects.for_account(request.account).not_deleted()
    return render(request, "integrations/api_settings.html", {"keys": keys})
