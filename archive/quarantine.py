"""Quarantine: responses that could not become article records, and article URLs given up on, kept with the reason.
Quarantine files use the same crash-safe JSONL writer as articles, under <root>/quarantine/."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .layout import QUARANTINE
from .schema import order_keys, schema_errors
from .writer import JsonlWriter, MiB

logger = logging.getLogger(__name__)

QUARANTINE_FIELDS: tuple[str, ...] = (
    "url",
    "reason",
    "detail",
    "fetched_at",
    "crawl_id",
    "http_status",
    "warc_file",
    "warc_record_id",
    "warc_offset",
    # Added with skip entries; after the original fields so that their positions never change.
    "outcome",
    "final_url",
)


def normalize_quarantine(record: dict[str, Any]) -> dict[str, Any]:
    """Quarantine record with keys in QUARANTINE_FIELDS order, extras after."""
    return order_keys(record, QUARANTINE_FIELDS)


def validate_quarantine(record: Any) -> list[str]:
    """Problems with a quarantine record; empty if valid."""
    return schema_errors(record, "quarantine.schema.json")


class QuarantineWriter(JsonlWriter):
    """JsonlWriter for quarantine records: files <crawl_id>-<seq>.jsonl.gz of kind 'quarantine'."""

    def __init__(
        self,
        directory: Path | str,
        prefix: str,
        max_records: int = 10_000,
        max_bytes: int = 64 * MiB,
        compress: bool = True,
        before_commit: Callable[[], object] | None = None,
        lock_group: str | None = None,
    ):
        super().__init__(
            directory,
            prefix,
            max_records,
            max_bytes,
            compress,
            kind=QUARANTINE,
            normalize=normalize_quarantine,
            validate=validate_quarantine,
            before_commit=before_commit,
            lock_group=lock_group,
        )
