"""Form helpers every app's views share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest


def posted(request: HttpRequest):
    """The POST data to bind a form to (even when empty), or None to show it blank."""
    return request.POST if request.method == "POST" else None


def add_service_error(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: on a field it names, else on the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)
