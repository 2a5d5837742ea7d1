"""kombu's filesystem transport, with messages that appear whole.

kombu's filesystem transport creates a message file and then writes it; a consumer polling
the folder can move and read the file in between, find it empty, and the worker dies with
"Unrecoverable error: JSONDecodeError" (seen in this project's test runs: a chain step or a
retry published by a worker child while the main process polls). Here a message is written
to a temporary name the consumer ignores and renamed into place, which is atomic.

Selected by `async_actions.contrib.backends.broker_settings` for the embedded default.
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
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # "<name>.tmp" does not end in ".<queue>.msg", so consumers skip it until the rename.
        temporary = final + ".tmp"
        try:
            with open(temporary, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
