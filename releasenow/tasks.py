"""Keeping background work alive: a task whose worker died is run again; and the minute's
housekeeping of the database cache."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus

log = logging.getLogger(__name__)

RECOVER_INTERVAL = timedelta(minutes=1)


def requeue_stale_tasks() -> int:
    """Tasks "running" for longer than TASK_RUNNING_TIMEOUT lost their worker (kill -9, a
    crash, a reboot): queue them again. The tasks of this project are safe to repeat."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(seconds=settings.TASK_RUNNING_TIMEOUT)
    stale = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    count = stale.update(status=TaskResultStatus.READY, started_at=None)
    if count:
        log.warning("%d tasks whose worker stopped are queued again", count)
    return count


def enqueue_once(recurring_task, run_after=None) -> bool:
    """Queue a recurring task unless it is queued already: one chain, however many workers
    started or restarted. Returns True if it queued one."""
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(
        task_path=recurring_task.module_path, status=TaskResultStatus.READY
    ).exists()
    if not queued:
        (recurring_task.using(run_after=run_after) if run_after else recurring_task).enqueue()
    return not queued


@task()
def recover_stale_tasks(reschedule: bool = True) -> int:
    """Requeue tasks of dead workers; runs again every minute."""
    from django_tasks_db.models import DBTaskResult

    count = requeue_stale_tasks()
    try:
        delete_expired_cache_entries()
    except Exception:  # noqa: BLE001 - a busy database must not end the chain of this task
        log.warning("Expired cache entries not deleted this time", exc_info=True)
    # Its own records (one a minute) are of no interest once an hour old.
    DBTaskResult.objects.finished().filter(
        task_path=recover_stale_tasks.module_path,
        finished_at__lt=timezone.now() - timedelta(hours=1),
    ).delete()
    if reschedule:
        enqueue_once(recover_stale_tasks, timezone.now() + RECOVER_INTERVAL)
    return count


def delete_expired_cache_entries() -> int:
    """The database cache (no Redis) forgets expired limits and markers here, once a minute,
    rather than counting its rows on every hit (releasenow/lib/cache.py)."""
    from django.core.cache import cache

    delete_expired = getattr(cache, "delete_expired", None)
    return delete_expired() if delete_expired else 0


def prune_finished_tasks(days: int = 7) -> int:
    """Finished task records go after a week: their arguments and tracebacks are no archive."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=days)
    return DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()[0]
