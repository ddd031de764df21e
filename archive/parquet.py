"""Parquet export of article records with one fixed schema (pyarrow, the optional `parquet` extra).
Columns follow the record's field order; values are kept as the JSONL holds them, so nothing is converted or lost."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .layout import check_archive_root
from .reader import iter_records
from .schema import FIELD_ORDER, OPTIONAL_FIELDS

logger = logging.getLogger(__name__)

BATCH_ROWS = 1000  # records held in memory at once
# The column after the record's fields: any other field, as a JSON object, so that an export drops nothing.
EXTRA_COLUMN = "extra"
JSON_COLUMNS = ("cleaning",)  # objects whose keys grow with the cleaner: kept as JSON text


class ParquetError(ValueError):
    """An export that cannot be written as Parquet; the message says why and what to do."""


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise ParquetError(
            f"--format parquet needs pyarrow ({exc}): pip install 'newsarchive[parquet]' (or .venv/bin/pip install pyarrow)"
        ) from exc
    return pyarrow


def parquet_schema() -> Any:
    """The schema of every Parquet export: the same columns, types and order whatever the records hold.

    Times stay ISO 8601 text as in the JSONL: `published_at` keeps the portal's +08:00, which a timestamp column
    would turn into UTC; `cleaning` and `extra` are JSON text.
    """
    pa = _pyarrow()
    text, strings = pa.string(), pa.list_(pa.string())
    types = {
        "schema_version": pa.int32(),
        "version": pa.int32(),
        "http_status": pa.int32(),
        "warc_offset": pa.int64(),
        "reporters": strings,
        "breadcrumb": strings,
        "paragraphs": strings,
        "subheadings": strings,
        "images": pa.list_(pa.struct([("url", text), ("caption", text)])),
        "derived_from": pa.struct([("crawl_id", text), ("version", pa.int32()), ("cleaner_version", text)]),
    }
    names = (*FIELD_ORDER, *OPTIONAL_FIELDS, EXTRA_COLUMN)
    return pa.schema([pa.field(name, types.get(name, text)) for name in names])


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parquet_row(record: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    """One row: the record's fields by column, the JSON columns as text, fields without a column in `extra`."""
    row = {name: record.get(name) for name in columns if name != EXTRA_COLUMN}
    for name in JSON_COLUMNS:
        if row.get(name) is not None:
            row[name] = _json(row[name])
    others = {key: value for key, value in record.items() if key not in columns}
    row[EXTRA_COLUMN] = _json(others) if others else None
    return row


def _batches(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def export_parquet(directory: Path | str, out: BinaryIO, latest_only: bool = True) -> int:
    """Write the archive's records (the newest version of each article, or every version) to `out` as Parquet.

    Returns the number of rows. Raises ArchiveRootError, ArchiveReadError, or ParquetError when pyarrow is missing
    or a record's values do not fit the schema (a record that `newsarchive verify` would report).
    """
    pa = _pyarrow()
    schema = parquet_schema()
    columns = tuple(schema.names)
    records = iter_records(check_archive_root(Path(directory)), latest_only=latest_only)
    count = 0
    with pa.parquet.ParquetWriter(out, schema) as writer:
        for batch in _batches(records, BATCH_ROWS):
            try:
                table = pa.Table.from_pylist([parquet_row(record, columns) for record in batch], schema=schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ParquetError(
                    f"a record among ids {batch[0].get('id')}..{batch[-1].get('id')} does not fit the Parquet schema "
                    f"({exc}); run 'newsarchive verify {directory}'"
                ) from exc
            writer.write_table(table)
            count += len(batch)
    logger.info("exported %d records from %s as Parquet", count, directory)
    return count
