"""Background jobs of the notification channels."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver(delivery_id: int) -> str:
    """Send what is due on the delivery's channel, this one among it (merged): "sent",
    "retry", "failed", "held" or "skipped"."""
    from .services import attempt

    return attempt(delivery_id)


@task()
def deliver_channel(channel_id: int) -> int:
    """Send what is due on one channel (deferred to the end of its wait); the number of
    deliveries attempted."""
    from .services import deliver_channel as send_due

    return send_due(channel_id)
