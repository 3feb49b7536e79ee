"""Staff write an update per language (Markdown), preview it, send a test to themselves, then
send it; the change page shows the progress and, at the end, the report."""

from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from parler.admin import TranslatableAdmin

from releasenow.lib.crypto import encrypt_email

from .models import Update
from .sending import render_update
from .tasks import send_update, send_update_test


@admin.register(Update)
class UpdateAdmin(TranslatableAdmin):
    list_display = ["__str__", "petition", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status", "petition"]
    readonly_fields = ["status", "progress", "report"]

    def get_fields(self, request, obj=None):
        return ["petition", "subject", "body", "status", "progress", "report"]

    def has_change_permission(self, request, obj=None) -> bool:
        """A sent or sending update is a record: it no longer changes."""
        if obj is not None and obj.status != Update.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != Update.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="progress")
    def progress(self, obj: Update) -> str:
        if obj.status == Update.Status.DRAFT:
            return "not sent yet"
        delivery = obj.delivery() if obj.status == Update.Status.SENDING else {
            "sent": obj.sent, "failed": obj.failed, "waiting": 0,
        }  # fmt: skip
        return format_html(
            '<progress max="100" value="{}"></progress> {} of {} queued; '
            "{} sent, {} failed, {} waiting",
            obj.progress_percent, obj.queued, obj.recipients,
            delivery["sent"], delivery["failed"], delivery["waiting"],
        )  # fmt: skip

    @admin.display(description="report")
    def report(self, obj: Update) -> str:
        return obj.report() if obj.status == Update.Status.SENT else "—"

    def render_change_form(self, request, context, *args, **kwargs):
        context["form_language"] = self.get_form_language(request, kwargs.get("obj"))
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name="updates_update_preview"),
            path("<int:pk>/test/", view(self.test_view), name="updates_update_test"),
            path("<int:pk>/send/", view(self.send_view), name="updates_update_send"),
            path("<int:pk>/resume/", view(self.resume_view), name="updates_update_resume"),
            *super().get_urls(),
        ]

    def chosen_language(self, request, update: Update) -> str:
        language = request.GET.get("language") or request.POST.get("language") or "en"
        return update.language_for(language if language in dict(settings.LANGUAGES) else "en")

    def preview_view(self, request, pk: int):
        """The message as a signer reading `language` gets it (English when not translated)."""
        update = get_object_or_404(Update.objects.select_related("petition"), pk=pk)
        language = self.chosen_language(request, update)
        subject, text, html = render_update(update, language, unsubscribe="#unsubscribe")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {subject}",
            "update": update,
            "language": language,
            "languages": settings.LANGUAGES,
            "subject": subject,
            "text": text,
            "html": html,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/updates/update/preview.html", context)

    def test_view(self, request, pk: int):
        update = get_object_or_404(Update, pk=pk)
        if request.method != "POST":
            return redirect("admin:updates_update_change", pk)
        if not request.user.email:
            messages.error(request, "Your account has no e-mail address: add one first.")
        else:
            language = self.chosen_language(request, update)
            send_update_test.enqueue(update.pk, encrypt_email(request.user.email), language)
            messages.success(request, f"A test copy ({language}) is on its way to your address.")
        return redirect("admin:updates_update_change", pk)

    def resume_view(self, request, pk: int):
        """Queue the next batch again, e.g. after the worker was killed mid-send: batches are
        claimed before they go out, so nobody gets a second copy."""
        update = get_object_or_404(Update, pk=pk)
        if request.method == "POST" and update.status == Update.Status.SENDING:
            send_update.enqueue(update.pk)
            messages.success(request, "The next batch is queued.")
        return redirect("admin:updates_update_change", pk)

    def send_view(self, request, pk: int):
        """Confirm with the numbers, then queue: the worker does the sending."""
        update = get_object_or_404(Update.objects.select_related("petition"), pk=pk)
        if update.status != Update.Status.DRAFT:
            messages.info(request, "This update has been sent already.")
            return redirect("admin:updates_update_change", pk)
        if request.method == "POST":
            if update.start(request.user):
                messages.success(
                    request, f"Sending to {update.recipients} signers in the background."
                )
            return redirect("admin:updates_update_change", pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send “{update}”",
            "update": update,
            "per_language": update.recipient_languages(),
            "missing": [code for code, _name in settings.LANGUAGES if code not in update.languages],
            "opts": self.model._meta,
            "change_url": reverse("admin:updates_update_change", args=[pk]),
        }
        context["total"] = sum(context["per_language"].values())
        return TemplateResponse(request, "admin/updates/update/send.html", context)
