"""The one-time link of an invitation: Django's password-reset token with its own salt, so a
password-reset link is no invitation and an invitation no reset link.

Single use: the token is a hash of the user's password hash and last sign-in, and setting the
password changes both. It expires after PASSWORD_RESET_TIMEOUT (three days by default).
"""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "team.tokens.InvitationTokenGenerator"


invitation_token = InvitationTokenGenerator()
