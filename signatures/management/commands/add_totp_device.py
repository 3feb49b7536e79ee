import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Give a staff account an authenticator-app device (TOTP), required to log in to the "
        "admin. Prints the set-up link and a QR code to scan."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="authenticator app")

    def handle(self, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account {username!r}; create it first (createsuperuser).")
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        qr = qrcode.QRCode(border=1)
        qr.add_data(device.config_url)
        out = io.StringIO()
        qr.print_ascii(out=out, invert=True)
        self.stdout.write(out.getvalue())
        self.stdout.write(f"Scan the code, or enter this link in the app:\n{device.config_url}")
