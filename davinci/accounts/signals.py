"""What accounts tells the apps above it (davinci <- facilities <- integrations), which
connect to these signals in their AppConfig.ready(); accounts itself imports none of them."""

from django.dispatch import Signal

# Sent once per account of a user whose sign-in was paused, inside the transaction of
# sign_in_throttled_record(), with account, user, ip, limits (which limits were reached) and
# summary (one sentence for the account's Activity log).
sign_in_throttled = Signal()

# Sent once per account of a user whose two-factor changed (davinci.accounts.two_factor), inside
# the change's transaction, with account, user (whose two-factor it is), actor (who did it;
# None for platform staff in the admin), ip, action (one of integrations' AuditEvent.Action
# values: "two_factor_enabled", "passkey_added", ...) and details (a dict for the log line).
two_factor_changed = Signal()
