"""The CHECK constraint of the new rule, once 0004 has placed the Returned to Dropbox locks."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("facilities", "0004_returned_to_dropbox_keeps_its_unit"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="lock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "status__in",
                            [
                                "assigned_auction",
                                "assigned_other",
                                "assigned_overlock",
                                "assigned_vacant",
                                "assigned_vendor",
                                "returned_to_dropbox",
                                "tenant_using_lock",
                            ],
                        ),
                        ("unit__isnull", False),
                    ),
                    models.Q(
                        models.Q(
                            (
                                "status__in",
                                [
                                    "assigned_auction",
                                    "assigned_other",
                                    "assigned_overlock",
                                    "assigned_vacant",
                                    "assigned_vendor",
                                    "returned_to_dropbox",
                                    "tenant_using_lock",
                                ],
                            ),
                            _negated=True,
                        ),
                        ("unit__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="lock_unit_matches_status",
                violation_error_message="A lock on a unit (Assigned …, Tenant Using Lock, Returned to Dropbox) needs a unit, and a lock in any other status must not have one.",
            ),
        ),
    ]
