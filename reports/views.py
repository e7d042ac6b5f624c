"""The Reports tab: four reports (each a page, a chart where a picture says more, and the
same rows as CSV or XLSX with `?download=csv|xlsx`, each download audited) and the audit
export. Every report counts the member's facilities only (for_membership())."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from davinci import charts
from davinci.accounts.decorators import account_required
from davinci.accounts.models import AuditEvent
from davinci.accounts.permissions import EXPORTS_HISTORY, SEES_REPORTS
from davinci.accounts.services import audit_event_record
from davinci.net import client_ip
from facilities.models import Facility, Lock
from reports import audit_export as export
from reports import disclosures, overlocks, tables, usage
from reports.downloads import FORMATS, file_response
from reports.forms import AuditExportForm, ReportFilterForm

sees_reports = account_required(*SEES_REPORTS)
PER_PAGE = 50
# The tabs, in order (templates/reports/_layout.html); the audit export follows for those
# who may export.
TABS = [
    ("lock_usage", "Lock usage"),
    ("overlocks_by_age", "Overlocks by age"),
    ("remove_overlock_queue", "Remove-overlock queue"),
    ("code_disclosures", "Code disclosures"),
]


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return render(request, template, {"report_tabs": TABS, **context})


def _filters(request: HttpRequest, *, needs_period: bool = False) -> ReportFilterForm:
    form = ReportFilterForm(
        request.GET or None, membership=request.membership, needs_period=needs_period
    )
    if not form.is_bound:  # no filter asked: the defaults, valid
        form = ReportFilterForm({}, membership=request.membership, needs_period=needs_period)
    return form


def _kept(form: ReportFilterForm) -> str:
    """The query string that keeps the filter (page links, downloads)."""
    facility = form.cleaned_data.get("facility")
    start, end = form.period()
    kept = {
        "facility": facility.facility_id if facility else "",
        "start": start or "",
        "end": end or "",
    }
    return urlencode({key: value for key, value in kept.items() if value})


def _download(request: HttpRequest, form: ReportFilterForm, table: tables.Table):
    """The report's rows as the file asked for, with the download audited."""
    file_format = request.GET["download"]
    facility = form.cleaned_data.get("facility")
    start, end = form.period()
    audit_event_record(
        account=request.account,
        action=AuditEvent.Action.REPORT_DOWNLOADED,
        actor=request.user,
        ip=client_ip(request),
        details={
            "report": table.report,
            "format": file_format,
            "facility_id": facility.facility_id if facility else None,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
    )
    stamp = "-".join(d.isoformat() for d in (start, end) if d) or usage.utc_today().isoformat()
    return file_response(
        file_format,
        filename=f"{table.report}-{stamp}",
        title=table.title,
        header=table.header,
        rows=table.rows,
    )


def _page(request: HttpRequest, template: str, form: ReportFilterForm, **context) -> HttpResponse:
    kept = _kept(form) if form.is_valid() else ""
    return _render(request, template, {"form": form, "kept": kept, **context})


def _wants_download(request: HttpRequest, form: ReportFilterForm) -> bool:
    return form.is_valid() and request.GET.get("download") in FORMATS


def _locks(request: HttpRequest, form: ReportFilterForm):
    facilities = form.facilities() if form.is_valid() else None
    locks = Lock.objects.for_membership(request.membership)
    return locks if facilities is None else locks.filter(facility__in=facilities)


def _facilities(request: HttpRequest, form: ReportFilterForm):
    facilities = form.facilities() if form.is_valid() else None
    return Facility.objects.for_membership(request.membership) if facilities is None else facilities


@require_safe
@sees_reports
def lock_usage(request: HttpRequest) -> HttpResponse:
    form = _filters(request, needs_period=True)
    days = []
    if form.is_valid():
        start, end = form.period()
        days = usage.usage_days(
            account=request.account, facilities=form.facilities(), first=start, last=end
        )
    if _wants_download(request, form):
        return _download(request, form, tables.usage_table(days))
    labels = [f"{d.day:%b} {d.day.day}" for d in days]  # "Nov 29": short under the bars
    chart = charts.bar_chart([[d.counting or 0] for d in days], labels)
    return _page(
        request,
        "reports/lock_usage.html",
        form,
        days=days,
        months=usage.usage_months(days),
        chart=chart,
        counted_since=usage.counted_since(request.account),
        unknown=sum(1 for d in days if d.counting is None),
    )


@require_safe
@sees_reports
def overlocks_by_age(request: HttpRequest) -> HttpResponse:
    form = _filters(request)
    locks = overlocks.in_period(
        _locks(request, form), *(form.period() if form.is_valid() else (None, None))
    )
    rows = overlocks.overlocks_by_age(locks, _facilities(request, form))
    if _wants_download(request, form):
        return _download(request, form, tables.overlocks_table(rows))
    totals = overlocks.overlock_totals(rows) if form.is_valid() else {}
    buckets = overlocks.BUCKETS
    return _page(
        request,
        "reports/overlocks.html",
        form,
        page=Paginator(rows, PER_PAGE).get_page(request.GET.get("page")),
        buckets=buckets,
        totals=totals,
        chart=charts.bar_chart(
            [[totals.get(b.key, 0)] for b in buckets], [b.label for b in buckets]
        ),
    )


@require_safe
@sees_reports
def remove_overlock_queue(request: HttpRequest) -> HttpResponse:
    form = _filters(request)
    locks = overlocks.in_period(
        _locks(request, form), *(form.period() if form.is_valid() else (None, None))
    )
    queue = overlocks.remove_overlock_queue(locks)
    if _wants_download(request, form):
        return _download(request, form, tables.queue_table(queue))
    page = Paginator(queue, PER_PAGE).get_page(request.GET.get("page"))
    for lock in page:
        lock.days_since = overlocks.days_since(lock.updated_at)
    return _page(request, "reports/remove_overlock_queue.html", form, page=page)


@require_safe
@sees_reports
def code_disclosures(request: HttpRequest) -> HttpResponse:
    form = _filters(request, needs_period=True)
    found = disclosures.Disclosures([], [], [])
    if form.is_valid():
        start, end = form.period()
        found = disclosures.disclosures_for(
            account=request.account, facilities=form.facilities(), first=start, last=end
        )
    if _wants_download(request, form):
        return _download(request, form, tables.disclosures_table(found))
    top = found.facilities[:12]
    return _page(
        request,
        "reports/code_disclosures.html",
        form,
        found=found,
        page=Paginator(found.facilities, PER_PAGE).get_page(request.GET.get("page")),
        chart=charts.bar_chart([[r.revealed, r.looked_up] for r in top], [r.name for r in top]),
        groups=[("User", found.users, "user"), ("API key", found.keys, "API key")],
    )


@require_safe
@account_required(*EXPORTS_HISTORY)
def audit_export(request: HttpRequest) -> HttpResponse:
    """The form; once it is valid, the file, streamed, and the export audited."""
    form = AuditExportForm(request.GET or None, membership=request.membership)
    if not form.is_valid():
        return _render(request, "reports/audit_export.html", {"form": form})
    data = form.cleaned_data
    lock_events = data["kind"] == "lock_events"
    pick = export.lock_events_for if lock_events else export.audit_events_for
    events = pick(
        membership=request.membership,
        first=data["start"],
        last=data["end"],
        facility=data["facility"],
        actor=data["actor"],
        api_key=data["api_key"],
    )
    audit_event_record(
        account=request.account,
        action=AuditEvent.Action.HISTORY_EXPORTED,
        actor=request.user,
        ip=client_ip(request),
        details={
            "history": data["kind"],
            "format": data["file_format"],
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "facility_id": data["facility"].facility_id if data["facility"] else None,
            "user": data["actor"].email if data["actor"] else None,
            "api_key": data["api_key"].api_key if data["api_key"] else None,
        },
    )
    columns = export.LOCK_EVENT_COLUMNS if lock_events else export.AUDIT_EVENT_COLUMNS
    file_format = data["file_format"]
    response = StreamingHttpResponse(
        export.export_lines(events, columns, file_format),
        content_type="text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/jsonl; charset=utf-8",
    )
    kind = data["kind"].replace("_", "-")
    name = f"{request.account.slug}-{kind}-{data['start']}-to-{data['end']}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
