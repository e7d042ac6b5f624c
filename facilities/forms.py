from django import forms

from facilities.models import Lock, unlock_code_validator


class LockCodeFormMixin(forms.ModelForm):
    """Edits the encrypted unlock code through a plain 4-digit field.

    The code is handed to the model before model validation, so `Lock.clean()` judges it
    (4 digits, and no change while the lock is assigned).
    """

    unlock_code = forms.CharField(
        label="Unlock code",
        min_length=4,
        max_length=4,
        validators=[unlock_code_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["unlock_code"].required = False
            self.fields["unlock_code"].help_text = "Leave empty to keep the current code."

    def clean(self) -> dict:
        cleaned = super().clean()
        code = cleaned.get("unlock_code")
        if code:
            self.instance.unlock_code = code
        return cleaned


class LockAdminForm(LockCodeFormMixin):
    class Meta:
        model = Lock
        fields = ["account", "facility", "serial", "status", "unit"]
