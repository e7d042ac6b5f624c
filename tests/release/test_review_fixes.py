from django.core import mail
from django.urls import reverse

from facilities.models import ReleaseAttempt


def test_a_nul_in_the_facility_is_a_form_error_not_a_500(client, account, facility):
    url = reverse("release:page", kwargs={"account_slug": account.slug})
    response = client.post(
        url, {"facility": "a\x00b", "unit_number": "A101", "contact": "a@example.com"}
    )
    assert response.status_code == 200
    assert "Choose one of the listed facilities." in response.content.decode()
    assert not ReleaseAttempt.objects.exists()


def test_the_email_subject_is_plain_text_on_one_line(client, account, facility, released):
    facility.name = "Smith & Sons\nStorage"
    facility.save()
    url = reverse("release:page", kwargs={"account_slug": account.slug})
    response = client.post(
        url,
        {
            "facility": facility.facility_id,
            "unit_number": "A101",
            "contact": "avery.johnson@example.com",
        },
    )
    assert response.status_code == 302
    response.close()  # the code is sent once the answer is written
    assert [m.subject for m in mail.outbox] == [
        "Your unlock code for unit A101 at Smith & Sons Storage"
    ]
