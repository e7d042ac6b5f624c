"""AuditEvent moves to accounts (accounts 0003 takes it into its state): its table and index
take accounts' names, and the model leaves integrations' state. No row changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_expiry_reminder"),
        ("accounts", "0003_auditevent_from_integrations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RenameIndex(
                    model_name="auditevent",
                    new_name="auditevent_account_idx",
                    old_name="integration_account_6e2714_idx",
                ),
                migrations.AlterModelTable(name="auditevent", table="accounts_auditevent"),
            ],
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
