"""Background job of the notification channels."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver(delivery_id: int) -> str:
    """Send one stored delivery if it is due: "sent", "retry", "failed" or "skipped"."""
    from .services import attempt

    return attempt(delivery_id)
