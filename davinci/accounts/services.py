import logging

from django.db import transaction

from davinci.accounts.models import User
from davinci.accounts.signals import sign_in_throttled

logger = logging.getLogger(__name__)


@transaction.atomic
def sign_in_throttled_record(*, email: str, ip: str, limits: list[str]) -> None:
    """Tell the accounts of the address under attack (their Activity log, written by
    integrations on the `sign_in_throttled` signal) and the server log.

    An unknown address has no account to tell: the log line is the record.
    """
    logger.warning("sign-in throttled", extra={"ip": ip, "limits": limits})
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is None:
        return
    for membership in user.memberships.select_related("account"):
        sign_in_throttled.send(
            sender=User,
            account=membership.account,
            user=user,
            ip=ip,
            limits=limits,
            summary="Too many failed sign-ins "
            + ("for this address" if "email" in limits else "from this IP address")
            + "; sign-in is paused for a while.",
        )
