"""A connector may sign in with a certificate (encrypted PEM and its thumbprint) instead of a
secret, so the secret may be empty."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fleet', '0022_pending_ledger'),
    ]

    operations = [
        migrations.AddField(
            model_name='connector',
            name='certificate_thumbprint',
            field=models.CharField(blank=True, editable=False, max_length=40),
        ),
        migrations.AddField(
            model_name='connector',
            name='client_certificate_encrypted',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AlterField(
            model_name='connector',
            name='client_secret_encrypted',
            field=models.TextField(blank=True, editable=False),
        ),
    ]
