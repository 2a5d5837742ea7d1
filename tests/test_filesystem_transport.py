"""The embedded broker under a writer and a reader at once: every message arrives whole."""

import threading

from kombu import Connection

MESSAGES = 1500


def _race(transport: str, folder) -> list[int]:
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
        "polling_interval": 0,
    }
    received: list[int] = []
    with (
        Connection("filesystem://", transport=transport, transport_options=options) as reader,
        Connection("filesystem://", transport=transport, transport_options=options) as writer,
    ):
        inbox = reader.SimpleQueue("race")
        outbox = writer.SimpleQueue("race")

        def publish() -> None:
            for number in range(MESSAGES):
                outbox.put(number)

        thread = threading.Thread(target=publish)
        thread.start()
        while len(received) < MESSAGES:
            message = inbox.get(timeout=10)
            received.append(message.payload)
            message.ack()
        thread.join()
    return received


def test_messages_written_while_being_polled_arrive_whole(tmp_path):
    # kombu's own transport ("filesystem") fails this with JSONDecodeError on an empty file.
    received = _race("async_actions.contrib.filesystem:Transport", tmp_path)

    assert sorted(received) == list(range(MESSAGES))
