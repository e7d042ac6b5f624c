"""The forms of two-factor: a code (set-up, the sign-in's second step), a passkey's name."""

from __future__ import annotations

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
        error_messages={"required": "Enter the 6-digit code from your authenticator app."},
    )


class SetupCodeForm(CodeForm):
    code = forms.RegexField(
        label="6-digit code from the app",
        regex=r"^\s*\d{6}\s*$",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={
            "required": "Enter the 6-digit code your app shows for DaVinci Lock.",
            "invalid": "Enter the 6 digits your app shows, such as 123456.",
        },
    )


class PasskeyNameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=64,
        error_messages={"required": "Give the passkey a name, such as “Work laptop”."},
    )
