"""The signature a report was started with, kept so the action can be started again.

It is stored as the broker gets it (kombu's JSON encoding of the signature dict, before any
task id is assigned), so a retry needs nothing but the report. A signature whose arguments
JSON cannot carry (the pickle serializer) is not stored: `retry_action` then asks for one.
"""

from __future__ import annotations

import json
from typing import Any

from celery import current_app
from celery.canvas import Signature
from kombu.exceptions import EncodeError
from kombu.serialization import dumps

# Options naming one run: a retry is a new run and gets new ones.
_RUN_OPTIONS = ("task_id", "group_id", "root_id", "parent_id", "chord", "stamped_headers", "stamps")


def stored_signature(signature: Signature) -> dict[str, Any] | None:
    """The signature as JSON data, or None when its arguments are not JSON-encodable."""
    try:
        _, _, payload = dumps(dict(signature), serializer="json")
    except EncodeError:
        return None
    data: dict[str, Any] = json.loads(payload)
    _strip_run_options(data)
    return data


def _strip_run_options(value: Any) -> None:
    if isinstance(value, dict):
        options = value.get("options")
        if isinstance(options, dict):
            for name in _RUN_OPTIONS:
                options.pop(name, None)
        for item in value.values():
            if isinstance(item, dict | list):
                _strip_run_options(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                _strip_run_options(item)


def signature_from_storage(data: dict[str, Any]) -> Signature:
    """A fresh signature (or canvas) from what `stored_signature` returned."""
    return Signature.from_dict(data, app=current_app)
