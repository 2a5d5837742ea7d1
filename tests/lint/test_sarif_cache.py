"""`--format sarif` (GitHub code scanning) and the per-file cache."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from async_actions.lint import Config, lint_paths
from async_actions.lint.cli import main
from async_actions.lint.rules import RULES

from .conftest import FIXTURES

# The parts of SARIF 2.1.0 that GitHub code scanning reads, written for this test.
_LOCATION = {
    "type": "object",
    "required": ["physicalLocation"],
    "properties": {
        "physicalLocation": {
            "type": "object",
            "required": ["artifactLocation", "region"],
            "properties": {
                "artifactLocation": {
                    "type": "object",
                    "required": ["uri"],
                    "properties": {"uri": {"type": "string", "pattern": r"^[^/\\][^\\]*$"}},
                },
                "region": {
                    "type": "object",
                    "required": ["startLine", "startColumn"],
                    "properties": {
                        "startLine": {"type": "integer", "minimum": 1},
                        "startColumn": {"type": "integer", "minimum": 1},
                    },
                },
            },
        }
    },
}
SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "help"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                },
                                                "help": {"type": "object", "required": ["text"]},
                                            },
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "level", "message", "locations"],
                            "properties": {
                                "ruleId": {"type": "string", "pattern": "^AA\\d{3}$"},
                                "level": {"enum": ["error", "warning", "note", "none"]},
                                "message": {"type": "object", "required": ["text"]},
                                "locations": {"type": "array", "minItems": 1, "items": _LOCATION},
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_is_valid_for_code_scanning(capsys, monkeypatch) -> None:
    monkeypatch.chdir(FIXTURES.parents[2])  # the repository root, as in CI
    assert main(["--format", "sarif", "tests/lint/fixtures/reach"]) == 1
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, SCHEMA)
    run = log["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert set(RULES) <= set(ids) and "AA000" in ids
    results = run["results"]
    assert len(results) == len(lint_paths(["tests/lint/fixtures/reach"]))
    first = results[0]
    assert ids[first["ruleIndex"]] == first["ruleId"]
    uri = first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("tests/lint/fixtures/reach/reach/")


def test_sarif_with_nothing_found(tmp_path, capsys) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    assert main(["--format", "sarif", str(tmp_path)]) == 0
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, SCHEMA)
    assert log["runs"][0]["results"] == []


def test_sarif_rejects_a_broken_log() -> None:
    # The schema above is not vacuous: a result without a location fails it.
    bad = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x", "rules": []}},
                "results": [
                    {"ruleId": "AA101", "level": "error", "message": {"text": "m"}, "locations": []}
                ],
            }
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def _cached(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pickle"))


def test_cache_gives_the_same_findings_and_follows_edits(tmp_path) -> None:
    project = tmp_path / "src"
    project.mkdir()
    target = project / "views.py"
    target.write_text((FIXTURES / "aa102.py").read_text())
    config = replace(Config(), cache_dir=str(tmp_path / "cache"))
    first = lint_paths([project], config)
    assert first and len(_cached(tmp_path / "cache")) == 1
    assert lint_paths([project], config) == first  # read back from the cache
    target.write_text("x = 1\n")  # new content: a new key, never the stale result
    assert lint_paths([project], config) == []
    assert len(_cached(tmp_path / "cache")) == 2


def test_a_broken_cache_entry_is_a_miss(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "views.py").write_text((FIXTURES / "aa102.py").read_text())
    config = replace(Config(), cache_dir=str(tmp_path / "cache"))
    expected = lint_paths([tmp_path / "src"], config)
    for entry in _cached(tmp_path / "cache"):
        entry.write_bytes(b"not a pickle")
    assert lint_paths([tmp_path / "src"], config) == expected


def test_unwritable_cache_is_not_required(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the cache folder should be
    config = replace(Config(), cache_dir=str(blocker / "cache"))
    assert lint_paths([FIXTURES / "aa102.py"], config) == lint_paths(
        [FIXTURES / "aa102.py"], replace(Config(), cache_dir="")
    )


def test_no_cache_option_writes_nothing(tmp_path, capsys) -> None:
    cache = tmp_path / "cache"
    assert main(["--no-cache", "--cache-dir", str(cache), str(FIXTURES / "aa102.py")]) == 1
    assert not cache.exists()
    assert main(["--cache-dir", str(cache), str(FIXTURES / "aa102.py")]) == 1
    assert _cached(cache)
    capsys.readouterr()


def test_bad_call_depth_is_a_usage_error(capsys) -> None:
    assert main(["--max-call-depth", "0", str(FIXTURES / "aa102.py")]) == 2
    assert "--max-call-depth" in capsys.readouterr().err
