"""Team's scheduled work: `celery -A davinci beat` runs it (CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from team.services import invitations_expire


@shared_task(name="team.invitations_expire", ignore_result=True)
def expire_invitations() -> int:
    """Delete the invitations nobody accepted in time (they already grant nothing)."""
    return invitations_expire()
