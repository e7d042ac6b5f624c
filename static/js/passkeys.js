// Your account → Two-factor: once django-otp-webauthn's script registered a passkey, load the
// page again so the new passkey is listed (and can be named).
document.addEventListener("otp_webauthn.register_complete", function () {
  window.location.reload();
});
