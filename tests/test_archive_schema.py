"""The record check: the compiled schema and jsonschema agree on every record, valid or not."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from archive.schema import load_schema, schema_errors
from archive.testing import sample_record

REFERENCE = Draft202012Validator(load_schema("record.schema.json"))
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.text(max_size=5),
    st.lists(st.integers(0, 2), max_size=2),
    st.fixed_dictionaries({"kind": st.sampled_from(["reading", "spam", "guess"]), "offset": st.integers(-1, 3)}),
)
PATHS = [
    ("schema_version",),
    ("id",),
    ("version",),
    ("fetched_at",),
    ("published_at",),
    ("images",),
    ("cleaning", "repairs"),
    ("cleaning", "unrecoverable"),
    ("cleaning", "pinyin_removed"),
    ("cleaner_version",),
    ("warc_offset",),
]


def with_repairs() -> dict[str, Any]:
    record = sample_record()
    record["cleaning"]["repairs"] = [
        {"kind": "reading", "offset": 1, "length": 0, "original": "(chǎn)"},
        {"kind": "bytes", "offset": 2, "length": 2, "original": "?;", "candidates": ["模", "。"]},
    ]
    return record


@settings(max_examples=max(settings().max_examples // 5, 50))
@given(
    changes=st.lists(st.tuples(st.sampled_from(PATHS), VALUES, st.booleans()), min_size=1, max_size=3),
    repair_change=st.one_of(st.none(), st.tuples(st.sampled_from(["kind", "offset", "length", "original"]), VALUES)),
)
def test_the_fast_check_accepts_exactly_what_jsonschema_accepts(
    changes: list[tuple[tuple[str, ...], Any, bool]], repair_change: tuple[str, Any] | None
) -> None:
    record = with_repairs()
    for path, value, delete in changes:
        holder = record
        for key in path[:-1]:
            holder = holder[key]
        if delete:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = copy.deepcopy(value)
    if (
        repair_change is not None
        and isinstance(record["cleaning"].get("repairs"), list)
        and record["cleaning"]["repairs"]
    ):
        record["cleaning"]["repairs"][0][repair_change[0]] = repair_change[1]
    reference_errors = list(REFERENCE.iter_errors(record))
    assert (schema_errors(record, "record.schema.json") == []) == (reference_errors == [])


def test_an_invalid_record_still_gets_every_message() -> None:
    record = with_repairs()
    record["id"] = "abc"
    record["cleaning"]["repairs"][0]["offset"] = -1
    errors = schema_errors(record, "record.schema.json")
    assert any(e.startswith("id:") for e in errors)
    assert any(e.startswith("cleaning/repairs/0/offset:") for e in errors)
