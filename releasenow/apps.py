from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "releasenow.admin.StaffAdminSite"

    def ready(self) -> None:
        super().ready()
        from . import checks  # noqa: F401 - registers the project's system checks
