"""Team's forms: Add User and the edit page ("Save Changes"). Every choice is narrowed to what
the editor may give: roles up to their own, facilities within their own access."""

from __future__ import annotations

from typing import Any

from crispy_bootstrap5.bootstrap5 import Switch
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.core.exceptions import ValidationError

from davinci.accounts import permissions
from davinci.accounts.models import Account, Membership, Role, User
from facilities.forms import PICKER_ENTER_BUTTON, FacilityChoiceField, FacilityPickerMixin
from facilities.models import Facility


class MemberForm(FacilityPickerMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=150)
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={"invalid": "Enter an email address such as name@example.com."},
    )
    role = forms.ChoiceField(
        label="Role",
        error_messages={
            "invalid_choice": "Choose one of the roles listed: you cannot give a role above "
            "your own.",
            "required": "Choose a role.",
        },
    )
    all_facilities = forms.BooleanField(
        label="All Facilities",
        required=False,
        initial=True,
        help_text="On: every facility, including ones added later. Off: only the facilities "
        "chosen below (new facilities are not added).",
    )
    facilities = FacilityChoiceField(
        label="Facilities",
        required=False,
        help_text="Used when All Facilities is off. Choose at least one.",
    )
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        help_text="Off (Inactive): the user cannot use this account and is signed out at "
        "their next request.",
    )

    def __init__(
        self, *args: Any, editor: Membership, member: Membership | None = None, **kwargs: Any
    ):
        if member is not None:
            kwargs.setdefault("initial", self.initial_for(member))
        super().__init__(*args, **kwargs)
        self.editor = editor
        self.member = member
        self.fields["facilities"].queryset = Facility.objects.for_membership(editor).order_by(
            "name", "id"
        )
        roles = [(role, Role(role).label) for role in permissions.assignable_roles(editor.role)]
        self.fields["role"].choices = [("", "Choose a role…"), *roles]
        if not editor.all_facilities:
            self.fields["all_facilities"].initial = False
        layout: list[Any] = [
            HTML(PICKER_ENTER_BUTTON),
            Field("name", autocomplete="off"),
            Field("email", autocomplete="off"),
        ]
        if member is None:
            del self.fields["is_active"]
        else:
            if not member.identity_editable_by_team():
                self._read_only(
                    "name",
                    "The user belongs to other accounts too: they change "
                    "their name under Your account.",
                )
            if not member.email_editable_by_team():
                self._read_only("email", "Only the user changes their email, under Your account.")
            if member.is_owner:
                self.fields["role"].choices = [(Role.OWNER, Role.OWNER.label)]
                self._read_only("role", "Hand ownership over below to change it.")
                self._read_only("all_facilities", "The owner has access to All Facilities.")
                self._read_only("facilities", "")
                self._read_only("is_active", "The owner is always active.")
            elif not member.is_active:
                self.fields["role"].required = False
                self.fields[
                    "role"
                ].help_text = "Setting the user Active again asks for their role again."
        self.setup_facility_picker()
        layout += ["role", Switch("all_facilities")]
        if not self.fields["facilities"].disabled:
            layout.append(
                Div(
                    "facilities",
                    css_class="facility-choices",
                    data_hidden_when_checked="#id_all_facilities",
                )
            )
        if member is not None:
            layout.append(Switch("is_active"))
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(*layout)

    def _read_only(self, name: str, help_text: str) -> None:
        field = self.fields[name]
        field.disabled = True
        field.required = False
        if help_text:
            field.help_text = help_text

    @staticmethod
    def initial_for(member: Membership) -> dict[str, Any]:
        return {
            "name": member.user.name,
            "email": member.user.email,
            # An inactive user's role is asked again when they are set Active.
            "role": member.role if member.is_active else "",
            "all_facilities": member.all_facilities,
            "facilities": list(
                member.facilities.order_by("name", "id").values_list("facility_id", flat=True)
            ),
            "is_active": member.is_active,
        }

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip().lower()
        if self.member is None:
            # (An expired invitation is gone: the address may be invited again.)
            taken = Membership.objects.current().filter(
                account_id=self.editor.account_id, user__email__iexact=email
            )
            if taken.exists():
                raise ValidationError("This email is already on the team.", code="already_member")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.member is not None and self.member.is_owner:
            return cleaned
        if self.member is not None and not self.member.is_active and not cleaned.get("role"):
            if cleaned.get("is_active"):
                self.add_error(
                    "role",
                    ValidationError(
                        "Choose a role to set the user Active again.", code="role_required"
                    ),
                )
            elif "role" not in self.errors:
                cleaned["role"] = self.member.role  # still Inactive: the role stays
        if cleaned.get("all_facilities"):
            # The chosen list is not used then: neither its IDs nor their errors count.
            self.errors.pop("facilities", None)
            cleaned["facilities"] = []
        if "facilities" in cleaned and "all_facilities" in cleaned:
            problem = self.editor.facility_access_error(
                all_facilities=cleaned["all_facilities"], facilities=list(cleaned["facilities"])
            )
            if problem is not None:
                self.add_error(*problem)
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {
            "name": data["name"],
            "email": data["email"],
            "role": data["role"],
            "all_facilities": data["all_facilities"],
            "facilities": list(data["facilities"]),
        }
        if "is_active" in self.fields:
            kwargs["is_active"] = data["is_active"]
        return kwargs

    def field_errors(self) -> list[tuple[forms.BoundField, str]]:
        return [(self[name], error) for name in self.fields for error in self[name].errors]


class OwnershipForm(forms.Form):
    """Hand ownership to this member: the owner types the word to confirm."""

    confirm = forms.BooleanField(
        label="I hand ownership of this account to this user and become a Client Admin.",
        error_messages={"required": "Tick the box to confirm the hand-over."},
    )


class TwoFactorPolicyForm(forms.ModelForm):
    """Team (the owner): whether every member of the account must use two-factor."""

    class Meta:
        model = Account
        fields = ["two_factor_required"]
