"""A fake InvoicesPlus API: a real HTTP server with knobs for the ways a real API misbehaves.

    python -m example.invoicesplus_fake --port 8100 --failure-rate 0.3 --rate-limit-rate 0.1

It imports nothing from Django or the example app: it is the outside world.
"""

from example.invoicesplus_fake.server import FakeInvoicesPlus, Knobs

__all__ = ["FakeInvoicesPlus", "Knobs"]
