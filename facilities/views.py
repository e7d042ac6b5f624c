from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from davinci.accounts.decorators import account_required
from facilities.models import Facility


@account_required()
def facility_list(request: HttpRequest) -> HttpResponse:
    facilities = (
        Facility.objects.for_account(request.account)
        .annotate(
            unit_count=Count("units", distinct=True), lock_count=Count("locks", distinct=True)
        )
        .order_by("name", "id")
    )
    page = Paginator(facilities, 50).get_page(request.GET.get("page"))
    return render(request, "facilities/facility_list.html", {"page": page})
