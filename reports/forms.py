"""The reports' filters: a facility (typed, or followed from a report's own link) and a
period of UTC days. Bad input is a form error on the page, never a server error."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from davinci.accounts.models import Membership, User
from facilities.models import Facility
from integrations.models import ApiKey
from reports.usage import utc_today

LONGEST_PERIOD = 366  # days: a year, what the charts and downloads are bounded to
DEFAULT_DAYS = 30


class ReportFilterForm(forms.Form):
    """`facility`: a Facility ID, or a facility's whole name, among the member's facilities
    (a select of 3,000 names would be most of the page). `start` and `end`: UTC days,
    inclusive; a report that needs a period fills in the last DEFAULT_DAYS days."""

    facility = forms.CharField(
        required=False,
        max_length=200,
        label="Facility",
        help_text="Its name or Facility ID; empty for all your facilities.",
    )
    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, membership: Membership, needs_period: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.needs_period = needs_period

    def clean_facility(self) -> Facility | None:
        text = self.cleaned_data["facility"].strip()
        if not text:
            return None
        facilities = Facility.objects.for_membership(self.membership)
        found = list(facilities.filter(facility_id=text.lower())[:1]) or list(
            facilities.filter(name__iexact=text)[:2]
        )
        if len(found) == 1:
            return found[0]
        if found:
            raise ValidationError(
                "Several of your facilities have that name: use its Facility ID.",
                code="ambiguous_facility",
            )
        raise ValidationError(
            "None of your facilities has that name or Facility ID.", code="unknown_facility"
        )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if "start" in self.errors or "end" in self.errors:
            return data
        today = utc_today()
        if self.needs_period:
            end = end or today
            start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        if start and end and start > end:
            raise ValidationError("The period ends before it starts.", code="period_inverted")
        if end and end > today:
            self.add_error(
                "end", ValidationError("The period cannot end after today (UTC).", code="future")
            )
        if start and end and (end - start).days + 1 > LONGEST_PERIOD:
            raise ValidationError(
                f"Choose a period of at most {LONGEST_PERIOD} days.", code="period_too_long"
            )
        data["start"], data["end"] = start, end
        return data

    def facilities(self) -> QuerySet[Facility] | None:
        """The facilities the report counts: the chosen one, the member's chosen facilities,
        or None for all of the account's (a member with All Facilities)."""
        facility = self.cleaned_data.get("facility")
        if facility is not None:
            return Facility.objects.filter(pk=facility.pk)
        if self.membership.all_facilities:
            return None
        return Facility.objects.for_membership(self.membership)

    def period(self) -> tuple[date | None, date | None]:
        return self.cleaned_data.get("start"), self.cleaned_data.get("end")


class AuditExportForm(forms.Form):
    """What the audit export holds: one kind of history, in one format, for a period, and
    optionally one facility, one member (the actor) and one API key."""

    KIND_CHOICES = [
        ("lock_events", "Lock history (LockEvents)"),
        ("audit_events", "Activity log (AuditEvents)"),
    ]
    FORMAT_CHOICES = [("csv", "CSV"), ("jsonl", "JSON Lines")]

    kind = forms.ChoiceField(choices=KIND_CHOICES, label="History")
    file_format = forms.ChoiceField(choices=FORMAT_CHOICES, label="Format", initial="csv")
    start = forms.DateField(label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput({"type": "date"}))
    facility = forms.CharField(
        required=False, max_length=200, label="Facility", help_text="Its name or Facility ID."
    )
    actor = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="User")
    api_key = forms.ModelChoiceField(
        queryset=ApiKey.objects.none(), required=False, label="API key"
    )

    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        members = Membership.objects.visible_to(membership).values("user_id")
        self.fields["actor"].queryset = User.objects.filter(pk__in=members).order_by(
            "name", "email"
        )
        self.fields["actor"].label_from_instance = lambda user: user.name or user.email
        self.fields["api_key"].queryset = ApiKey.objects.for_membership(membership).order_by(
            "name", "pk"
        )

    clean_facility = ReportFilterForm.clean_facility

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("The period ends before it starts.", code="period_inverted")
        if end and end > utc_today():
            self.add_error(
                "end", ValidationError("The period cannot end after today (UTC).", code="future")
            )
        return data
