"""Integrations → Automations: the rules in order (add, edit, Enabled, move, delete), the
activity list of every event and rule run, and the CSV upload of payments. Owners and Client
Admins only; a member with chosen facilities sees the account-wide rules and those of their
facilities (changing only the latter), and the activity of their facilities. A rule or
facility outside the member's is a 404, like another account's."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from automations import services
from automations.forms import (
    ActivityFilterForm,
    PaymentConfirmForm,
    PaymentUploadForm,
    RuleEnabledForm,
    RuleForm,
    RuleMoveForm,
)
from automations.models import AutomationRun, Rule
from automations.payments import PaymentPlan
from davinci.accounts import permissions
from davinci.accounts.decorators import account_required, get_member_object_or_404
from davinci.forms import add_service_error, posted
from davinci.keyset import keyset_page
from davinci.net import client_ip
from facilities.models import Facility
from facilities.querysets import first_names_of

RUNS_PER_PAGE = 50
PREVIEW_ROWS_SHOWN = 200
manages_automations = account_required(*permissions.MANAGES_AUTOMATIONS)


def _get_rule(request: HttpRequest, pk: int) -> Rule:
    return get_member_object_or_404(
        Rule.objects.select_related("account"), request.membership, pk=pk
    )


def _editable_rule(request: HttpRequest, pk: int) -> Rule:
    rule = _get_rule(request, pk)
    if not permissions.can_edit_rule(
        member_all_facilities=request.membership.all_facilities,
        rule_all_facilities=rule.all_facilities,
    ):
        raise PermissionDenied(
            "This rule is for All Facilities: only a user with All Facilities can change it."
        )
    return rule


@require_GET
@manages_automations
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = list(
        Rule.objects.for_membership(request.membership)
        .annotate(
            facility_count=Facility.objects.chosen_count("automation_rules", row_field="rule"),
            **Facility.objects.first_names_chosen_by("automation_rules", row_field="rule"),
        )
        .order_by("position", "id")
    )
    for rule in rules:
        rule.first_facilities = first_names_of(rule)
    return render(request, "automations/rule_list.html", {"rules": rules})


@require_http_methods(["GET", "POST"])
@manages_automations
def rule_create(request: HttpRequest) -> HttpResponse:
    form = RuleForm(posted(request), membership=request.membership)
    if form.is_bound and form.is_valid():
        try:
            services.rule_create(
                account=request.account,
                **form.service_kwargs(),
                membership=request.membership,
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Rule added. It runs after the rules above it.")
            return redirect("automations:rule_list")
    return render(request, "automations/rule_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@manages_automations
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _editable_rule(request, pk)
    form = RuleForm.for_rule(rule, posted(request), membership=request.membership)
    if form.is_bound and form.is_valid():
        try:
            changed = services.rule_update(
                rule=rule,
                **form.service_kwargs(),
                membership=request.membership,
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Changes saved." if changed else "Nothing to change.")
            return redirect("automations:rule_list")
    return render(request, "automations/rule_form.html", {"form": form, "rule": rule})


@require_POST
@manages_automations
def rule_enable(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _editable_rule(request, pk)
    form = RuleEnabledForm(request.POST)
    form.is_valid()  # a lone optional checkbox: absent means off, so it is always valid
    enabled = form.cleaned_data["enabled"]
    if services.rule_set_enabled(
        rule=rule, enabled=enabled, actor=request.user, ip=client_ip(request)
    ):
        if enabled:
            messages.success(request, f"“{rule}” is on.")
        else:
            messages.success(request, f"“{rule}” is off: its events are recorded, nothing done.")
    return redirect("automations:rule_list")


@require_POST
@manages_automations
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _get_rule(request, pk)
    if not permissions.can_reorder_rules(member_all_facilities=request.membership.all_facilities):
        raise PermissionDenied("Only a user with All Facilities can change the rules' order.")
    form = RuleMoveForm(request.POST)
    if form.is_valid():
        up = form.cleaned_data["direction"] == "up"
        services.rule_move(rule=rule, up=up, actor=request.user, ip=client_ip(request))
    return redirect("automations:rule_list")


@require_http_methods(["GET", "POST"])
@manages_automations
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _editable_rule(request, pk)
    if request.method == "POST":
        try:
            services.rule_delete(rule=rule, actor=request.user, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Rule deleted. Its runs stay in the activity list.")
        return redirect("automations:rule_list")
    return render(request, "automations/rule_delete.html", {"rule": rule})


@require_GET
@manages_automations
def activity(request: HttpRequest) -> HttpResponse:
    form = ActivityFilterForm(request.GET, membership=request.membership)
    runs = AutomationRun.objects.for_membership(request.membership)
    kept = {}
    if form.is_valid():
        if facility := form.cleaned_data["facility"]:
            runs = runs.filter(facility=facility)
            kept["facility"] = facility.facility_id
        if unit := form.cleaned_data["unit"]:
            runs = runs.filter(unit_number=unit)
            kept["unit"] = unit
        if result := form.cleaned_data["result"]:
            runs = runs.filter(result=result)
            kept["result"] = result
    else:
        runs = runs.none()
    runs = runs.select_related("event__api_key", "event__uploaded_by", "rule", "facility", "lock")
    page = keyset_page(runs, request.GET, RUNS_PER_PAGE)
    context = {"form": form, "page": page, "query_string": urlencode(kept)}
    return render(request, "automations/activity.html", context)


def _preview(request: HttpRequest, plan: PaymentPlan, text: str) -> HttpResponse:
    confirm = None
    if plan.is_valid:
        payload = PaymentConfirmForm.seal_for(
            scope=PaymentConfirmForm.scope_of(request.membership),
            filename=plan.filename,
            text=text,
            fingerprint="",
        )
        confirm = PaymentConfirmForm(initial={"payload": payload}, membership=request.membership)
    context = {
        "plan": plan,
        "rows": plan.rows[:PREVIEW_ROWS_SHOWN],
        "rows_hidden": max(0, len(plan.rows) - PREVIEW_ROWS_SHOWN),
        "confirm_form": confirm,
        "upload_form": PaymentUploadForm(),
    }
    return render(request, "automations/payments_preview.html", context)


@require_http_methods(["GET", "POST"])
@manages_automations
def payments_upload(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: the preview of the file's payments; nothing is written."""
    files = request.FILES if request.method == "POST" else None
    form = PaymentUploadForm(posted(request), files)
    if request.method == "POST" and form.is_valid():
        plan = services.payments_preview(
            membership=request.membership,
            text=form.text,
            filename=form.cleaned_data["file"].name[:200],
        )
        return _preview(request, plan, form.text)
    return render(request, "automations/payments_upload.html", {"form": form})


@require_POST
@manages_automations
def payments_apply(request: HttpRequest) -> HttpResponse:
    """Receive the previewed payments, all or nothing, after checking the file again."""
    form = PaymentConfirmForm(request.POST, membership=request.membership)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["payload"]))
        return redirect("automations:payments_upload")
    data = form.cleaned_data["payload"]
    plan, events = services.payments_apply(
        membership=request.membership,
        text=data["text"],
        filename=data["filename"],
        user=request.user,
        ip=client_ip(request),
    )
    if not events:  # something changed since the preview: show why, write nothing
        return _preview(request, plan, data["text"])
    messages.success(
        request,
        f"{len(events)} payment{'s' if len(events) != 1 else ''} from {data['filename']} "
        "received: what the rules did is below.",
    )
    return redirect("automations:activity")
