from django.dispatch import Signal

# Sent when a message failed for good, with `ref`, `kind` and `reason` (never the address):
# the app that queued it records the failure where its staff look.
mail_failed = Signal()
