"""Django signals the library sends, for code that wants to know about actions.

    from async_actions.signals import action_started

    @receiver(action_started)
    def log_start(sender, report, signature, **kwargs): ...

`action_started` is sent by `start_action` once a new report (and its steps) is recorded
and its message is queued for the commit: `signature` is the frozen, stamped canvas that
will be sent. It is not sent for an `idempotency_key` seen before (nothing new starts).
The testing kit's `captured_actions` and `eager_actions` fixtures listen to it.
"""

from django.dispatch import Signal

action_started = Signal()
