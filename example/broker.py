"""kombu's filesystem transport, with each message written atomically.

kombu's own `_put` creates the message file and then writes into it. A consumer polling the
folder in between moves and reads an empty file, fails to decode it, and the worker stops
with "Unrecoverable error: JSONDecodeError" (celery/kombu#1551). Workflows make that likely:
their steps are published by worker processes while the worker's main process polls. Here the
message is written under a name the consumer ignores and then renamed, which is atomic.

Used by settings.py for the embedded broker (CELERY_BROKER_TRANSPORT); it belongs in
async_actions.contrib.backends, where the embedded default is chosen.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"  # not "<queue>.msg": consumers pass it over
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
