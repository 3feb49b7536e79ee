from django.apps import AppConfig
from django.db.models.signals import post_save


class SignaturesConfig(AppConfig):
    name = "signatures"
    verbose_name = "Signatures"

    def ready(self) -> None:
        from campaigns.models import Petition
        from mail.signals import mail_failed

        from .emails import record_failure, register_renderers

        post_save.connect(relist_on_moderation_change, sender=Petition)
        mail_failed.connect(record_failure, dispatch_uid="signatures.record_failure")
        register_renderers()


def relist_on_moderation_change(sender, instance, **kwargs) -> None:
    from .models import Signature

    Signature.objects.relist_unreviewed(instance)
