"""Run the fake InvoicesPlus API until SIGINT/SIGTERM. Defaults come from FAKE_INVOICESPLUS_*."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from dataclasses import fields

from example.invoicesplus_fake.server import FakeInvoicesPlus, Knobs


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m example.invoicesplus_fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    for knob in fields(Knobs):
        if knob.name == "api_key":
            continue  # from the environment only: a command line is visible to every user (ps)
        env = os.environ.get(f"FAKE_INVOICESPLUS_{knob.name.upper()}")
        parser.add_argument(f"--{knob.name.replace('_', '-')}", type=type(knob.default),
                            default=type(knob.default)(env) if env else knob.default)
    args = vars(parser.parse_args())
    host, port = args.pop("host"), args.pop("port")
    api_key = os.environ.get("INVOICES_PLUS_API_KEY") or Knobs.api_key
    knobs = Knobs(api_key=api_key, **args)
    fake = FakeInvoicesPlus(host=host, port=port, knobs=knobs, verbose=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    fake.start()
    shown = {k: v for k, v in args.items() if v != getattr(Knobs, k)}
    print(f"InvoicesPlus fake listening on {fake.url} (knobs: {shown or 'defaults'})", flush=True)
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
