"""History archives: the account's LockEvents and AuditEvents that history retention took
out of the database (facilities/retention.py), listed and downloaded by the Owner."""

from __future__ import annotations

import logging

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from davinci.accounts.decorators import account_required, get_member_object_or_404
from davinci.accounts.models import AuditEvent, Role
from davinci.accounts.services import audit_event_record
from davinci.net import client_ip
from facilities.models import HistoryArchive

logger = logging.getLogger(__name__)
ARCHIVES_PER_PAGE = 50


@require_safe
@account_required(Role.OWNER)
def history_archive_list(request: HttpRequest) -> HttpResponse:
    archives = HistoryArchive.objects.for_membership(request.membership).done()
    page = Paginator(archives, ARCHIVES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "facilities/history_archives.html", {"page": page})


@require_safe
@account_required()
def history_archive_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The archive's file as it was written (gzip JSON Lines), streamed; the download is
    audited. Anyone but the account's Owner gets 404, as for another account's archive."""
    archive = get_member_object_or_404(
        HistoryArchive.objects.done().select_related("account"), request.membership, pk=pk
    )
    try:
        file = archive.file.open("rb")
    except FileNotFoundError:
        logger.error("History archive %s: its file %s is missing", archive.pk, archive.file.name)
        raise Http404("This archive's file is missing.") from None
    audit_event_record(
        account=request.account,
        action=AuditEvent.Action.HISTORY_ARCHIVE_DOWNLOADED,
        actor=request.user,
        ip=client_ip(request),
        target=archive,
    )
    return FileResponse(
        file,
        as_attachment=True,
        filename=archive.download_name,
        content_type="application/gzip",
    )
