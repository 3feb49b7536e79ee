"""Staff work on signatures: the moderation queue, verification, edits, audit, exports.

Every change goes through the model's methods, so counts stay exact and each action leaves an
audit entry. E-mail addresses are never shown here.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from campaigns.models import Petition

from .delivery import GROUPS, Order
from .exports import csv_lines, full_rows, public_rows
from .imports import import_signatures
from .mail_providers import forget_cached_domains, normalise, repository_domains
from .models import (
    AuditEntry,
    CountryCount,
    DuplicateCandidate,
    RiskyMailDomain,
    Signature,
    StaffJob,
)
from .statistics import petition_statistics
from .tasks import run_staff_job

PRIVACY_ORDER = [
    v.value
    for v in (
        Signature.Visibility.PUBLIC,
        Signature.Visibility.INITIALS,
        Signature.Visibility.ANONYMOUS,
    )
]
EDITABLE = ["full_name", "affiliation", "city", "country", "visibility"]


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    QUEUES = {
        "review": (
            "public text to review",
            Q(status="confirmed", moderation="unreviewed") & ~Q(visibility="anonymous"),
        ),
        "held": ("held (not counted)", Q(held=True) & ~Q(status="withdrawn")),
        "claims": (
            "group claims to verify",
            Q(status="confirmed", group_verified_at__isnull=True, group_rejected_at__isnull=True)
            & ~Q(group="supporter"),
        ),
        "flagged": (
            "flagged: no proof of work or disposable address",
            Q(status="confirmed", moderation="unreviewed", imported_from="")
            & (Q(challenge_passed=False) | Q(disposable_domain=True)),
        ),
        "imported": (
            "imported, to review (Belarus, place, visibility)",
            Q(status="confirmed", moderation="unreviewed") & ~Q(import_flags=""),
        ),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _q) in self.QUEUES.items()]

    def queryset(self, request, queryset):
        if self.value() in self.QUEUES:
            return queryset.filter(self.QUEUES[self.value()][1])
        return queryset


class SearchScopeFilter(admin.SimpleListFilter):
    """Search matches names only, unless staff ask for roles and cities too: a search for
    "Relative" must not find everyone whose organisation is called "Relatives of …"."""

    title = "search in"
    parameter_name = "search_in"

    def lookups(self, request, model_admin):
        return [("all", "names, roles and cities")]

    def queryset(self, request, queryset):
        return queryset  # read by SignatureAdmin.get_search_fields


class EraseForm(forms.Form):
    """The confirmation of an erasure: a checkbox, and above a threshold the number typed."""

    confirm = forms.BooleanField(
        label="I have checked the list: these people asked to be erased, and it cannot be undone."
    )
    number = forms.IntegerField(required=False, label="Type the number of signatures to erase")

    def __init__(self, *args, expected: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["number"].required = expected > settings.ERASE_TYPE_NUMBER_ABOVE

    def clean_number(self):
        number = self.cleaned_data.get("number")
        if self.fields["number"].required and number != self.expected:
            raise forms.ValidationError(
                f"Type {self.expected}, the number of signatures listed above."
            )
        return number


class SignatureAdminForm(forms.ModelForm):
    class Meta:
        model = Signature
        fields = EDITABLE

    def clean_visibility(self):
        """Staff may make a signature more private than the signer chose, never more public."""
        new = self.cleaned_data["visibility"]
        old = self.instance.visibility
        if PRIVACY_ORDER.index(new) < PRIVACY_ORDER.index(old):
            raise forms.ValidationError(
                "Only the signer can make their signature more public than they chose."
            )
        return new


def bulk(method_name: str, description: str):
    """An admin action that applies a model method to each selected signature."""

    def action(modeladmin, request, queryset):
        done = sum(bool(getattr(s, method_name)(actor=request.user)) for s in queryset)
        modeladmin.message_user(request, f"{description}: {done} of {queryset.count()} signatures.")

    action.__name__ = method_name
    return admin.action(description=description)(action)


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    form = SignatureAdminForm
    # Short labels and no wrapping, so a laptop screen (1440×900) shows 15 rows and more.
    list_display = [
        "name", "state", "shown", "group_short", "country", "city", "flags", "confirmed_at",
    ]  # fmt: skip
    list_filter = [
        QueueFilter, SearchScopeFilter, "petition", "status", "moderation", "visibility", "group",
        "held",
    ]  # fmt: skip
    search_fields = ["full_name"]
    list_per_page = 100
    show_full_result_count = False
    fieldsets = [
        ("Public fields", {"fields": EDITABLE}),
        (
            "State",
            {
                "fields": [
                    "petition", "status", "moderation", "counted", "listed", "group",
                    "group_verified_at", "group_rejected_at", "created_at", "confirmed_at",
                    "withdrawn_at", "moderated_at", "duplicate_of",
                ]
            },
        ),
        (
            "Checks",
            {
                "fields": [
                    "held", "hold_reason", "challenge_passed", "disposable_domain", "email_failed",
                    "language", "updates_consent", "imported_from",
                ]
            },
        ),
    ]  # fmt: skip
    readonly_fields = [f for group in fieldsets[1:] for f in group[1]["fields"]]
    actions = [
        bulk("approve", "Approve for the public list"),
        bulk("hide", "Hide from the public list (still counted)"),
        bulk("mark_fraudulent", "Mark as fraudulent (not counted)"),
        bulk("verify_group", "Verify the group claim"),
        bulk("reject_group", "Reject the group claim"),
        bulk("release", "Release held signatures"),
        "withdraw_on_request",
    ]

    def get_search_fields(self, request):
        if request.GET.get(SearchScopeFilter.parameter_name) == "all":
            return ["full_name", "affiliation", "city"]
        return self.search_fields

    @admin.action(description="Withdraw and erase on the signer's request…")
    def withdraw_on_request(self, request, queryset):
        """Irreversible, so never at once: a page lists exactly who will be erased, by id, and
        only its confirmation (with the number typed for more than a few) erases them."""
        people = list(queryset.exclude(status=Signature.Status.WITHDRAWN).order_by("pk"))
        form = EraseForm(
            request.POST if "erase_confirmed" in request.POST else None, expected=len(people)
        )
        if form.is_bound and form.is_valid():
            done = sum(bool(s.withdraw_on_request(actor=request.user)) for s in people)
            self.message_user(request, f"Withdrawn and erased: {done} signatures.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase these signatures?",
            "people": people,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/signatures/erase_confirmation.html", context)

    def get_list_display(self, request):
        if Petition.objects.count() > 1:
            return [*self.list_display[:1], "petition", *self.list_display[1:]]
        return self.list_display

    @admin.display(description="name", ordering="full_name")
    def name(self, obj: Signature) -> str:
        """The full name, for review; how it is shown is in the next column."""
        return obj.full_name or "—"

    @admin.display(description="state")
    def state(self, obj: Signature) -> str:
        if obj.status != Signature.Status.CONFIRMED:
            return {"pending": "pending", "withdrawn": "withdrawn"}.get(obj.status, obj.status)
        moderation = {
            "unreviewed": "to review", "approved": "approved", "hidden": "hidden",
            "fraudulent": "fraud", "duplicate": "duplicate",
        }[obj.moderation]  # fmt: skip
        counting = "listed" if obj.listed else "counted" if obj.counted else "not counted"
        return f"{moderation}, {counting}"

    @admin.display(description="shown as", ordering="visibility")
    def shown(self, obj: Signature) -> str:
        return {"public": "full", "initials": "initials", "anonymous": "not listed"}.get(
            obj.visibility, obj.visibility
        )

    @admin.display(description="group", ordering="group")
    def group_short(self, obj: Signature) -> str:
        if obj.group == Signature.Group.SUPPORTER:
            return ""
        claim = "prisoner" if obj.group == Signature.Group.FORMER_POLITICAL_PRISONER else "relative"
        if obj.group_verified_at:
            return f"{claim} ✓"
        return f"{claim} ✗" if obj.group_rejected_at else f"{claim}?"

    @admin.display(description="flags")
    def flags(self, obj: Signature) -> str:
        flags = []
        if obj.held:
            flags.append("held")
        if not obj.challenge_passed and not obj.imported_from:
            flags.append("no proof of work")
        if obj.disposable_domain:
            flags.append("disposable address")
        if obj.email_failed:
            flags.append("e-mail failed")
        if obj.import_flags:
            flags.append(obj.import_flags)
        text = ", ".join(str(f) for f in flags)
        if len(text) <= 40:
            return text
        return format_html('<span title="{}">{}…</span>', text, text[:39])

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "petition/<slug:slug>/public.csv",
                view(self.public_csv),
                name="signatures_public_csv",
            ),
            path("petition/<slug:slug>/full.csv", view(self.full_csv), name="signatures_full_csv"),
            path("petition/<slug:slug>/delivery/", view(self.delivery), name="signatures_delivery"),
            path(
                "petition/<slug:slug>/statistics/",
                view(self.statistics),
                name="signatures_statistics",
            ),
            path("import/", view(self.import_view), name="signatures_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "petitions": Petition.objects.all(),
            "languages": settings.LANGUAGES,
        }
        return super().changelist_view(request, extra_context)

    def public_csv(self, request, slug):
        petition = get_object_or_404(Petition, slug=slug)
        return csv_response(csv_lines(public_rows(petition)), f"{slug}-signatories.csv")

    def full_csv(self, request, slug):
        if not request.user.has_perm("signatures.export_personal_data"):
            raise PermissionDenied
        petition = get_object_or_404(Petition, slug=slug)
        return csv_response(
            csv_lines(full_rows(petition, request.user)), f"{slug}-full-{timezone.localdate()}.csv"
        )

    def delivery(self, request, slug):
        """Order a delivery document: the worker builds it; the job page shows the progress
        and the download. Never built inside this request: 100,000 names take a while."""
        petition = get_object_or_404(Petition, slug=slug)
        form = DeliveryForm(petition, request.POST or None, initial=request.GET.dict() or None)
        if request.method == "POST" and form.is_valid():
            job = StaffJob.objects.create(
                kind=StaffJob.Kind.DELIVERY, petition=petition, options=form.options(),
                requested_by=request.user.get_username(),
            )  # fmt: skip
            run_staff_job.enqueue(job.pk)
            messages.success(request, "The worker is building the document; this page follows it.")
            return HttpResponseRedirect(reverse("admin:signatures_staffjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "petition": petition,
            "title": f"Delivery document: {petition}",
        }
        return TemplateResponse(request, "admin/signatures/delivery.html", context)

    def statistics(self, request, slug):
        petition = get_object_or_404(Petition, slug=slug)
        context = {
            **self.admin_site.each_context(request),
            **petition_statistics(petition),
            "petition": petition,
            "title": f"Statistics: {petition}",
        }
        return TemplateResponse(request, "admin/signatures/statistics.html", context)

    def import_view(self, request):
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", "The file is not UTF-8 text.")
            else:
                data = form.cleaned_data
                report = import_signatures(
                    data["petition"], text, source=data["source"] or upload.name,
                    visibility=data["visibility"] or None, filename=upload.name,
                    dry_run=data["dry_run"], actor=request.user,
                )  # fmt: skip
        context = {**self.admin_site.each_context(request), "form": form, "report": report,
                   "title": "Import signatures"}  # fmt: skip
        return TemplateResponse(request, "admin/signatures/import.html", context)

    def has_add_permission(self, request) -> bool:
        return False  # signatures come from signing and from imports

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # erasure is a withdrawal, which keeps the counts honest

    def save_model(self, request, obj: Signature, form, change) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if fields:
            Signature.objects.get(pk=obj.pk).change(request.user, "edit public fields", **fields)
        else:
            messages.info(request, "Nothing changed.")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept by the system itself: staff read them, nobody edits them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "actor_name",
        "action",
        "signature",
        "petition",
        "before",
        "after",
        "note",
    ]
    list_filter = ["action", "actor_name", "petition"]
    date_hierarchy = "at"


@admin.register(CountryCount)
class CountryCountAdmin(ReadOnlyAdmin):
    list_display = ["petition", "country", "count"]
    list_filter = ["petition"]


@admin.register(StaffJob)
class StaffJobAdmin(ReadOnlyAdmin):
    """Delivery documents and duplicate searches done by the worker: progress, then the
    document's download. The list reloads itself while a job runs (no script needed)."""

    list_display = [
        "kind", "petition", "state", "progress_bar", "message", "download", "requested_by",
        "created_at",
    ]  # fmt: skip
    list_filter = ["kind", "state", "petition"]
    fields = [
        "kind", "petition", "options", "state", "progress_bar", "message", "download",
        "requested_by", "created_at", "started_at", "finished_at",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="progress")
    def progress_bar(self, obj: StaffJob) -> str:
        return format_html(
            '<progress max="100" value="{}">{} %</progress> {} %',
            obj.progress,
            obj.progress,
            obj.progress,
        )

    @admin.display(description="document")
    def download(self, obj: StaffJob) -> str:
        if obj.state != StaffJob.State.DONE or not obj.file_name:
            return ""
        url = reverse("admin:signatures_staffjob_download", args=[obj.pk])
        return format_html('<a href="{}">Download {}</a>', url, obj.file_name)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="signatures_staffjob_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        job = get_object_or_404(StaffJob, pk=pk, state=StaffJob.State.DONE)
        if not self.has_view_permission(request, job) or not job.path or not job.path.is_file():
            raise Http404("The document is not there (any more).")
        return Download(job.path.open("rb"), as_attachment=True, filename=job.file_name)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "refresh": StaffJob.objects.active().exists()}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        active = StaffJob.objects.active().filter(pk=object_id).exists()
        extra_context = {**(extra_context or {}), "refresh": active}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ReadOnlyAdmin):
    """Likely duplicates, best first. Merging keeps the earlier signature; the later one stops
    counting (it stays in the records, marked as a duplicate)."""

    list_display = ["score", "first_entry", "second_entry", "status", "decided_by", "decided_at"]
    list_filter = ["status", "petition"]
    list_select_related = ["first", "second"]
    actions = ["merge", "dismiss"]

    @admin.display(description="first signature (kept when merged)")
    def first_entry(self, obj):
        return describe(obj.first)

    @admin.display(description="second signature")
    def second_entry(self, obj):
        return describe(obj.second)

    @admin.action(description="Merge: keep the first, stop counting the second")
    def merge(self, request, queryset):
        done = sum(c.merge(actor=request.user) for c in queryset.open())
        self.message_user(request, f"{done} pairs merged.")

    @admin.action(description="Dismiss: not the same person")
    def dismiss(self, request, queryset):
        done = sum(c.dismiss(actor=request.user) for c in queryset.open())
        self.message_user(request, f"{done} pairs dismissed.")

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser  # a stale pair may be removed

    def get_urls(self):
        return [
            path(
                "search/",
                self.admin_site.admin_view(self.search_view),
                name="signatures_duplicatecandidate_search",
            ),
            *super().get_urls(),
        ]

    def search_view(self, request):
        """Start a search for duplicates in the worker (it also runs on a schedule)."""
        form = DuplicateSearchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            petition = form.cleaned_data["petition"]
            running = StaffJob.objects.active().filter(
                petition=petition, kind=StaffJob.Kind.DUPLICATES
            )
            job = running.first()
            if job is None:  # one search per petition at a time
                job = StaffJob.objects.create(
                    kind=StaffJob.Kind.DUPLICATES, petition=petition,
                    requested_by=request.user.get_username(),
                )  # fmt: skip
                run_staff_job.enqueue(job.pk)
            return HttpResponseRedirect(reverse("admin:signatures_staffjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Search for duplicate signatures",
            "every": settings.DUPLICATES_EVERY_HOURS,
        }
        return TemplateResponse(request, "admin/signatures/duplicate_search.html", context)


class DuplicateSearchForm(forms.Form):
    petition = forms.ModelChoiceField(Petition.objects.all(), empty_label=None)


class DeliveryForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES, initial="en")
    order = forms.ChoiceField(choices=Order.CHOICES, initial=Order.SIGNING)
    group = forms.ChoiceField(choices=GROUPS, required=False)
    countries = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every country.",
    )

    def __init__(self, petition, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from releasenow.lib.countries import country_name

        self.fields["countries"].choices = [
            (c.country, f"{country_name(c.country, 'en') or 'not given'} ({c.count})")
            for c in CountryCount.for_petition(petition)
        ]

    def options(self) -> dict:
        data = self.cleaned_data
        return {
            "language": data["language"], "order": data["order"], "group": data["group"],
            "countries": sorted(data["countries"]),
        }  # fmt: skip


class ImportForm(forms.Form):
    petition = forms.ModelChoiceField(Petition.objects.all())
    file = forms.FileField(
        help_text=(
            "A published list (one “Name (role), City, Country” per line) "
            "or a CSV with a full_name column."
        )
    )
    source = forms.CharField(
        required=False,
        max_length=200,
        help_text="Where the list comes from; default: the file name.",
    )
    visibility = forms.ChoiceField(
        choices=[
            ("", "— lines without one: initials only, flagged —"),
            *Signature.Visibility.choices,
        ],
        required=False,
        help_text="For lines that carry no visibility of their own. Lines in Belarus (country or "
        "city) are never listed, whatever the file or this choice says.",
    )
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: only show what would be imported"
    )


class Download(FileResponse):
    """A staff download (a delivery PDF or CSV: tens of megabytes for a large petition) handed
    over in blocks of 256 KB. The web server (granian) offers no `wsgi.file_wrapper`, so the
    file goes through Python block by block, and Django's default block is 4 KB."""

    block_size = 256 * 1024


def csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def describe(signature: Signature) -> str:
    place = ", ".join(p for p in (signature.city, signature.country.code) if p)
    return f"#{signature.pk} {signature.full_name}" + (f" ({place})" if place else "")


class RiskyMailDomainForm(forms.ModelForm):
    class Meta:
        model = RiskyMailDomain
        fields = ["domain", "note"]

    def clean_domain(self) -> str:
        domain = normalise(self.cleaned_data["domain"])
        if not domain:
            raise forms.ValidationError("Write a domain such as “mail.example.ru” or “example.*”.")
        if domain in repository_domains():
            raise forms.ValidationError("This domain is already on the repository's list.")
        return domain


@admin.register(RiskyMailDomain)
class RiskyMailDomainAdmin(admin.ModelAdmin):
    """Additions to `signatures/data/risky_mail_domains.txt`: signers at these providers are
    warned that the provider may hand their mail to the authorities."""

    form = RiskyMailDomainForm
    list_display = ["domain", "note", "added_at"]
    search_fields = ["domain", "note"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        forget_cached_domains()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        forget_cached_domains()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        forget_cached_domains()
