"""One row per notice to send (email or text message): what to send (the sender's name and
the ids it needs) and how sending went."""

from __future__ import annotations

from django.db import models


class Notice(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        # The sender ran to its end: it sent, or found nothing due (a release attempt that
        # earned no code queues a notice too, so every answer of the page costs the same;
        # the attempt's outcome says which).
        SENT = "sent", "Done"
        FAILED = "failed", "Sending failed"

    kind = models.CharField(max_length=60)
    # Ids only (e.g. {"attempt_id": 7}): never a code, a secret or a message body.
    arguments = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The exception's type only: a provider's message could echo the body, code included.
    last_error = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a worker may next try it (a retry's backoff); the sweep dispatches what is due.
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="outbox_notice_due")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"
