"""newsarchive export --format parquet: one fixed schema whatever the records hold, and every value of every record;
and the downstream readers as the README shows them (duckdb, pandas) keep what the archive holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas
import pyarrow.parquet as pq
import pytest

from archive.cli import export_main
from archive.parquet import EXTRA_COLUMN, parquet_schema
from archive.reader import iter_records
from archive.schema import FIELD_ORDER
from archive.testing import sample_record, write_sample_crawl

CRAWL = "20250101T000000Z-aaaaaa"
LATER = "20250201T000000Z-bbbbbb"


def export(root: Path, out: Path, *options: str) -> list[dict[str, Any]]:
    assert export_main([str(root), "--format", "parquet", "--out", str(out), *options]) == 0
    return list(pq.read_table(out).to_pylist())


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    """Two crawls: article 1 in versions 1 and 2 (the second re-derived, with an unknown field too), article 2 once,
    as a schema version 1 record (no cleaner_version, no repairs)."""
    root = tmp_path / "archive"
    old = sample_record("2", 1, "舊", crawl_id=CRAWL, schema_version=1, published_at=None)
    del old["cleaner_version"]
    del old["cleaning"]["repairs"]
    write_sample_crawl(root, CRAWL, [sample_record("1", 1, "甲", crawl_id=CRAWL), old])
    derived = sample_record(
        "1",
        2,
        "乙",
        crawl_id=LATER,
        derived_from={"crawl_id": CRAWL, "version": 1, "cleaner_version": "0.1.0+model.000000000000"},
        reason="reclean: the text changed",
        note="kept",
    )
    write_sample_crawl(root, LATER, [derived], started_at="2025-02-01T00:00:00Z")
    return root


def test_parquet_export_of_a_real_crawl_has_the_fixed_schema_and_every_value(
    crawled_archive: Path, tmp_path: Path
) -> None:
    rows = export(crawled_archive, tmp_path / "news.parquet")
    assert pq.read_schema(tmp_path / "news.parquet").equals(parquet_schema())
    records = {r["id"]: r for r in iter_records(crawled_archive, latest_only=True)}
    assert sorted(row["id"] for row in rows) == sorted(records)
    for row in rows:
        record = records[row["id"]]
        assert {name: row[name] for name in FIELD_ORDER if name != "cleaning"} == {
            name: record[name] for name in FIELD_ORDER if name != "cleaning"
        }
        assert json.loads(row["cleaning"]) == record["cleaning"]
        assert row[EXTRA_COLUMN] is None and row["derived_from"] is None


def test_parquet_schema_does_not_depend_on_the_records(versions: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    write_sample_crawl(empty, CRAWL, [])
    assert export(empty, tmp_path / "empty.parquet") == []
    export(versions, tmp_path / "versions.parquet", "--all-versions")
    for name in ("empty.parquet", "versions.parquet"):
        assert pq.read_schema(tmp_path / name).equals(parquet_schema())


def test_parquet_keeps_optional_and_unknown_fields_and_old_records(versions: Path, tmp_path: Path) -> None:
    rows = {(row["id"], row["version"]): row for row in export(versions, tmp_path / "all.parquet", "--all-versions")}
    assert sorted(rows) == [("1", 1), ("1", 2), ("2", 1)]
    derived = rows[("1", 2)]
    assert derived["derived_from"] == {"crawl_id": CRAWL, "version": 1, "cleaner_version": "0.1.0+model.000000000000"}
    assert derived["reason"] == "reclean: the text changed"
    assert json.loads(derived[EXTRA_COLUMN]) == {"note": "kept"}
    old = rows[("2", 1)]
    assert old["schema_version"] == 1 and old["cleaner_version"] is None and old["published_at"] is None
    assert "repairs" not in json.loads(old["cleaning"])
    latest = export(versions, tmp_path / "latest.parquet")
    assert sorted((row["id"], row["version"]) for row in latest) == [("1", 2), ("2", 1)]


def test_parquet_needs_an_output_file(versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        export_main([str(versions), "--format", "parquet"])
    assert exited.value.code == 2 and "give --out FILE" in capsys.readouterr().err


def test_duckdb_keeps_the_portals_offset_only_when_published_at_is_read_as_text(versions: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "latest.jsonl"
    assert export_main([str(versions), "--out", str(jsonl)]) == 0
    typed = duckdb.sql(f"SELECT typeof(published_at) FROM read_json('{jsonl}') WHERE id = '1'").fetchall()
    assert typed == [("TIMESTAMP WITH TIME ZONE",)]  # what the README warns about: shown in the session's time zone
    as_text = f"SELECT id, published_at FROM read_json('{jsonl}', columns={{id: 'VARCHAR', published_at: 'VARCHAR'}})"
    assert sorted(duckdb.sql(as_text).fetchall()) == [("1", "2024-12-31T08:00:00+08:00"), ("2", None)]
    export(versions, tmp_path / "latest.parquet")
    from_parquet = f"SELECT typeof(published_at), published_at FROM '{tmp_path / 'latest.parquet'}' WHERE id = '1'"
    assert duckdb.sql(from_parquet).fetchall() == [("VARCHAR", "2024-12-31T08:00:00+08:00")]


def test_pandas_keeps_id_a_string_only_with_dtype_false(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    write_sample_crawl(root, CRAWL, [sample_record("000123", crawl_id=CRAWL)])
    jsonl = tmp_path / "latest.jsonl"
    assert export_main([str(root), "--out", str(jsonl)]) == 0
    assert pandas.read_json(jsonl, lines=True)["id"].tolist() == [123]  # the leading zeros are gone
    frame = pandas.read_json(jsonl, lines=True, dtype=False)
    assert frame["id"].tolist() == ["000123"]
    assert frame["published_at"].tolist() == ["2024-12-31T08:00:00+08:00"]
