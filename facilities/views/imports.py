"""CSV import (upload → preview → import) and export of a facility's units and locks."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from davinci.accounts.decorators import account_required, get_member_object_or_404
from davinci.forms import posted
from davinci.net import client_ip
from facilities import imports, services
from facilities.forms import ImportConfirmForm, ImportUploadForm
from facilities.models import Facility
from facilities.views.common import changes_locks

PREVIEW_CHANGES_SHOWN = 200


def _preview(request: HttpRequest, facility: Facility, plan: imports.ImportPlan, text: str):
    confirm = None
    if plan.is_valid and plan.has_changes:
        payload = ImportConfirmForm.seal(
            facility=facility, filename=plan.filename, text=text, fingerprint=plan.fingerprint
        )
        confirm = ImportConfirmForm(initial={"payload": payload}, facility=facility)
    changes = plan.changes()
    context = {
        "facility": facility,
        "plan": plan,
        "confirm_form": confirm,
        "upload_form": ImportUploadForm(),
        "changes": changes[:PREVIEW_CHANGES_SHOWN],
        "changes_hidden": max(0, len(changes) - PREVIEW_CHANGES_SHOWN),
    }
    return render(request, "facilities/import_preview.html", context)


@sensitive_variables()  # the file holds unlock codes: never in an error report
@require_http_methods(["GET", "POST"])
@changes_locks
def facility_import(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the upload form. POST: the preview of the uploaded file; nothing is written."""
    facility = get_member_object_or_404(Facility.objects, request.membership, pk=pk)
    files = request.FILES if request.method == "POST" else None
    form = ImportUploadForm(posted(request), files)
    if request.method == "POST" and form.is_valid():
        filename = form.cleaned_data["file"].name[:200]
        plan = services.facility_import_preview(
            facility=facility, text=form.text, filename=filename, membership=request.membership
        )
        return _preview(request, facility, plan, form.text)
    context = {"facility": facility, "form": form, "columns": imports.COLUMNS}
    return render(request, "facilities/import_upload.html", context)


@sensitive_variables()
@sensitive_post_parameters("payload")
@require_POST
@changes_locks
def facility_import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the previewed file, all or nothing, after checking it again."""
    facility = get_member_object_or_404(Facility.objects, request.membership, pk=pk)
    form = ImportConfirmForm(request.POST, facility=facility)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["payload"]))
        return redirect("facilities:facility_import", pk=facility.pk)
    data = form.cleaned_data["payload"]
    plan, result = services.facility_import_commit(
        facility=facility,
        text=data["text"],
        filename=data["filename"],
        membership=request.membership,
        previewed=data.get("fingerprint", ""),
        user=request.user,
        ip=client_ip(request),
    )
    if result is None:  # the database changed since the preview: show why, write nothing
        return _preview(request, facility, plan, data["text"])
    messages.success(request, f"Imported {data['filename']}: {plan.summary()}.")
    return redirect("facilities:facility_detail", pk=facility.pk)


@require_safe
@account_required()
def facility_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Units and locks as CSV, in the import's columns; never a code."""
    facility = get_member_object_or_404(Facility.objects, request.membership, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    filename = f"{slugify(facility.name) or 'facility'}-units-and-locks-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so Excel reads the file as UTF-8
    csv.writer(response).writerows(imports.export_rows(facility))
    return response
