import pytest
from django.urls import reverse

from davinci.accounts.models import Role
from tests.conftest import signed_in, staff_signed_in
from tests.factories import FacilityFactory, MembershipFactory


def test_sign_in_with_email_and_password(client, owner, password):
    response = client.post(
        reverse("accounts:login"), {"username": owner.email.upper(), "password": password}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_wrong_password_is_a_form_error(client, owner):
    response = client.post(reverse("accounts:login"), {"username": owner.email, "password": "no"})
    assert response.status_code == 200
    assert "That email and password do not match an account" in response.content.decode()


def test_sign_out_is_a_post(owner_client):
    assert owner_client.get(reverse("accounts:logout")).status_code == 405
    response = owner_client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert owner_client.get(reverse("home")).status_code == 302


def test_facilities_show_only_the_current_account(owner_client, facility, other_facility):
    response = owner_client.get(reverse("facilities:facility_list"))
    body = response.content.decode()
    assert facility.name in body
    assert other_facility.name not in body


def test_account_switcher_changes_the_current_account(owner, facility, other_account):
    MembershipFactory(user=owner, account=other_account, role=Role.CLIENT_PERSONNEL)
    rival_facility = FacilityFactory(account=other_account, name="Rival North")
    client = signed_in(owner)
    body = client.get(reverse("facilities:facility_list")).content.decode()
    assert "Switch account" in body and facility.name in body

    response = client.post(
        reverse("accounts:switch_account"), {"account": other_account.pk, "next": "/"}
    )
    assert response.status_code == 302
    body = client.get(reverse("facilities:facility_list")).content.decode()
    assert rival_facility.name in body
    assert facility.name not in body


def test_switching_to_an_account_you_are_not_in_is_404(owner_client, other_account):
    response = owner_client.post(reverse("accounts:switch_account"), {"account": other_account.pk})
    assert response.status_code == 404


@pytest.mark.parametrize("bad", ["", "abc", "99999999999999999999"])
def test_switcher_with_garbage_is_404_not_500(owner_client, bad):
    response = owner_client.post(reverse("accounts:switch_account"), {"account": bad})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "wanted", ["https://evil.example", "//evil.example/", "accounts:logout", "/\\evil.example"]
)
def test_switcher_ignores_an_offsite_next(owner_client, account, wanted):
    response = owner_client.post(
        reverse("accounts:switch_account"), {"account": account.pk, "next": wanted}
    )
    assert response.url == reverse("home")


def test_switcher_follows_a_next_path_of_this_site(owner_client, account):
    wanted = reverse("integrations:facility_list") + "?page=2"
    response = owner_client.post(
        reverse("accounts:switch_account"), {"account": account.pk, "next": wanted}
    )
    assert response.url == wanted


def test_a_user_without_account_gets_a_clear_403(db):
    from tests.factories import UserFactory

    client = signed_in(UserFactory())
    response = client.get(reverse("facilities:facility_list"))
    assert response.status_code == 403
    assert "not a member of any account" in response.content.decode()


def test_the_403_of_a_user_without_account_does_not_link_back_to_itself(db):
    from tests.factories import UserFactory

    body = signed_in(UserFactory()).get(reverse("home"), follow=True).content.decode()
    assert "not a member of any account" in body
    assert f'href="{reverse("home")}"' not in body.split("<main", 1)[1]
    assert "Sign out" in body


def test_staff_without_account_are_sent_to_the_admin(db):
    from tests.factories import UserFactory

    client = staff_signed_in(UserFactory(is_staff=True))  # the admin asks for two-factor
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1] == (reverse("admin:index"), 302)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("not a member of any account" in m for m in messages)


def test_staff_see_the_admin_link(account):
    staff = MembershipFactory(account=account, user__is_staff=True).user
    body = signed_in(staff).get(reverse("facilities:facility_list")).content.decode()
    assert 'href="/admin/"' in body


def test_error_pages_are_friendly(client, owner_client):
    response = owner_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_password_reset_by_email(client, owner, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": owner.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password-reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a new long passphrase 42", "new_password2": "a new long passphrase 42"},
    )
    assert response.status_code == 302
    assert client.login(username=owner.email, password="a new long passphrase 42")


def test_password_reset_for_an_unknown_email_looks_the_same(client, db, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_health_probes(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_every_response_has_a_request_id_and_a_strict_csp(client, db):
    response = client.get(reverse("accounts:login"), HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"


def test_repeated_failed_sign_ins_are_throttled_per_email(client, owner, password, settings):
    settings.SIGN_IN_FAILURES_PER_EMAIL = 3
    url = reverse("accounts:login")
    for _ in range(3):
        client.post(url, {"username": owner.email, "password": "wrong"})
    response = client.post(url, {"username": owner.email, "password": password})
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_are_throttled_per_ip(client, owner, password, settings):
    settings.SIGN_IN_FAILURES_PER_IP = 4
    url = reverse("accounts:login")
    for n in range(4):
        client.post(url, {"username": f"guess{n}@example.com", "password": "wrong"})
    response = client.post(url, {"username": owner.email, "password": password})
    assert "Too many failed sign-ins" in response.content.decode()


def test_a_successful_sign_in_clears_the_email_count(client, owner, password, settings):
    settings.SIGN_IN_FAILURES_PER_EMAIL = 3
    url = reverse("accounts:login")
    for _ in range(2):
        client.post(url, {"username": owner.email, "password": "wrong"})
    assert client.post(url, {"username": owner.email, "password": password}).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(2):
        client.post(url, {"username": owner.email, "password": "wrong"})
    assert client.post(url, {"username": owner.email, "password": password}).status_code == 302


def test_reaching_the_limit_writes_one_audit_event(client, owner, account, settings):
    from davinci.accounts.models import AuditEvent

    settings.SIGN_IN_FAILURES_PER_EMAIL = 3
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": owner.email, "password": "wrong"})
    events = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_THROTTLED)
    assert [(e.account, e.target_repr, e.details["limits"]) for e in events] == [
        (account, owner.email, ["email"])
    ]
    owner_page = signed_in(owner).get(reverse("integrations:activity")).content.decode()
    assert "Sign-in blocked after failed attempts" in owner_page
    assert "Too many failed sign-ins for this address" in owner_page


def test_client_ip_is_empty_when_the_socket_has_no_ip(rf):
    from davinci.net import client_ip

    request = rf.get("/", REMOTE_ADDR="unix:/run/gunicorn.sock")
    assert client_ip(request) == ""
