"""Two-factor sign-in (docs/two-factor.md): an authenticator app (django-otp's TOTP device)
with ten single-use recovery codes (RecoveryCodeDevice, stored hashed), and passkeys
(django-otp-webauthn's credentials) as a second way in.

- services: every change (turn on, recovery codes, passkeys, turn off, reset, the account's
  policy), each audited (an AuditEvent) and, where the user should know,
  emailed through the outbox (notices);
- views: Your account's two-factor pages and the sign-in's second step;
- webauthn: the passkey ceremonies, narrowed to the user who gave their password.
"""
