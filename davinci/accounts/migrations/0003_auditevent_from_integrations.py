"""AuditEvent moves from integrations to accounts: the Activity log is the account's (its
keys, facilities, team and sign-in), and accounts records its own events."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_five_roles_and_facility_access"),
    ]

    operations = [
        # The table is integrations' (integrations 0005 renames it to accounts_auditevent
        # and drops the model from its state): this only takes the model into accounts' state.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("key_created", "API key created"),
                                    ("key_edited", "API key edited"),
                                    ("key_revealed", "API secret revealed"),
                                    ("key_disabled", "API key disabled"),
                                    ("key_enabled", "API key enabled"),
                                    ("key_rolled", "API secret rolled"),
                                    ("key_deleted", "API key deleted"),
                                    ("facility_included", "Facility included in API"),
                                    ("facility_excluded", "Facility excluded from API"),
                                    ("sign_in_throttled", "Sign-in blocked after failed attempts"),
                                    ("member_added", "User added"),
                                    ("member_edited", "User edited"),
                                    ("member_deactivated", "User set Inactive"),
                                    ("member_reactivated", "User set Active"),
                                    ("member_invited_again", "Invitation sent again"),
                                    ("ownership_transferred", "Ownership handed over"),
                                ],
                                max_length=40,
                            ),
                        ),
                        ("target_type", models.CharField(blank=True, max_length=40)),
                        ("target_id", models.CharField(blank=True, max_length=64)),
                        ("target_repr", models.CharField(blank=True, max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("details", models.JSONField(blank=True, default=dict)),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="audit_events",
                                to="accounts.account",
                            ),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["account", "-created_at"], name="auditevent_account_idx"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
