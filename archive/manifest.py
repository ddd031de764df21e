"""Per-crawl manifest manifests/<crawl_id>.json: the list of files a finished crawl committed, with checksums and counts.
It is written last and atomically, so its presence means the crawl finished and everything it lists is complete."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .layout import KINDS, ArchiveLayout, UnsafeNameError, check_name
from .ledger import FINISHED, append_event, ledger_state
from .schema import SCHEMA_VERSION
from .writer import ClosedFile, write_json_atomic

logger = logging.getLogger(__name__)

SUMMARY_KEYS = ("archived", "unchanged", "new_version", "quarantined", "skipped")
FILE_KEYS = ("name", "kind", "records", "bytes", "sha256")


class ManifestError(ValueError):
    """A manifest that cannot be read or is malformed."""


def file_entry(item: ClosedFile | dict[str, Any]) -> dict[str, Any]:
    """Manifest entry {name, kind, records, bytes, sha256} from a ClosedFile or an equivalent dict."""
    data = item.as_dict() if isinstance(item, ClosedFile) else dict(item)
    missing = [key for key in FILE_KEYS if key not in data]
    if missing:
        raise ManifestError(
            f"file entry {data!r} lacks {', '.join(missing)}; pass the ClosedFile returned by the writer"
        )
    if data["kind"] not in KINDS:
        raise ManifestError(f"file {data['name']!r} has kind {data['kind']!r}; use one of {', '.join(KINDS)}")
    check_name(data["name"])
    return {key: data[key] for key in FILE_KEYS}


def build_manifest(
    crawl_id: str,
    started_at: str,
    finished_at: str,
    settings: dict[str, Any],
    files: Iterable[ClosedFile | dict[str, Any]],
    summary: dict[str, int],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest document (pure: no I/O); `extra` adds keys after the summary (e.g. `cluster`)."""
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    if missing:
        raise ManifestError(f"summary lacks {', '.join(missing)}; count them during the crawl (0 if none)")
    ordered_summary = {key: summary[key] for key in SUMMARY_KEYS}
    ordered_summary.update({k: v for k, v in summary.items() if k not in ordered_summary})
    return {
        "schema_version": SCHEMA_VERSION,
        "crawl_id": check_name(crawl_id),
        "started_at": started_at,
        "finished_at": finished_at,
        # default=str: settings may hold classes or paths; the manifest keeps a readable trace of them.
        "settings": json.loads(json.dumps(settings, default=str)),
        "files": [file_entry(item) for item in files],
        "summary": ordered_summary,
        **(extra or {}),
    }


def write_manifest(
    root: Path | str,
    crawl_id: str,
    started_at: str,
    finished_at: str,
    settings: dict[str, Any],
    files: Iterable[ClosedFile | dict[str, Any]],
    summary: dict[str, int],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write manifests/<crawl_id>.json atomically. Call it after every writer of the crawl is closed."""
    layout = ArchiveLayout(Path(root))
    document = build_manifest(crawl_id, started_at, finished_at, settings, files, summary, extra)
    # The ledger as this crawl leaves it (its own started line included): lines removed or edited later, or the
    # whole ledger deleted, show against it.
    document["ledger"] = ledger_state(root)
    path = layout.manifest_path(crawl_id)
    if path.exists():
        raise ManifestError(f"{path} already exists; a crawl id is used once, start the next crawl with a new id")
    path.parent.mkdir(parents=True, exist_ok=True)
    sha256 = write_json_atomic(path, document)
    # The ledger remembers that this crawl finished and which manifest it wrote: verify notices one deleted or replaced.
    append_event(root, FINISHED, crawl_id, finished_at, manifest_sha256=sha256)
    logger.info("wrote manifest %s (%d files)", path, len(document["files"]))
    return path


def manifest_problems(document: Any) -> list[str]:
    """Structural problems of a manifest document; empty if well formed."""
    if not isinstance(document, dict):
        return ["manifest is not a JSON object"]
    problems = [
        f"missing key {key!r}"
        for key in ("crawl_id", "started_at", "finished_at", "files", "summary")
        if key not in document
    ]
    if "crawl_id" in document:
        try:
            check_name(document["crawl_id"])
        except UnsafeNameError as exc:
            problems.append(f"crawl_id: {exc}")
    for i, entry in enumerate(document.get("files") or []):
        if not isinstance(entry, dict) or any(key not in entry for key in FILE_KEYS):
            problems.append(f"files[{i}] must have {', '.join(FILE_KEYS)}")
        elif entry["kind"] not in KINDS:
            problems.append(f"files[{i}] has unknown kind {entry['kind']!r}")
    summary = document.get("summary")
    if isinstance(summary, dict):
        problems += [f"summary lacks {key!r}" for key in SUMMARY_KEYS if not isinstance(summary.get(key), int)]
    elif "summary" in document:
        problems.append("summary is not an object")
    return problems


def read_manifest(path: Path) -> dict[str, Any]:
    """Parse and check one manifest; raises ManifestError saying what is wrong."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    problems = manifest_problems(document)
    if problems:
        raise ManifestError(f"malformed manifest {path}: " + "; ".join(problems))
    assert isinstance(document, dict)  # manifest_problems reports anything else
    return document


def manifest_paths(root: Path | str) -> list[Path]:
    """Committed manifest files (hidden temporaries excluded), sorted by name."""
    directory = ArchiveLayout(Path(root)).manifests_dir
    if directory.is_symlink() or not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.json") if not p.name.startswith(".") and not p.is_symlink())


def load_manifests(root: Path | str) -> dict[str, dict[str, Any]]:
    """crawl_id -> manifest for every readable manifest; unreadable ones are logged and skipped."""
    manifests = {}
    for path in manifest_paths(root):
        try:
            document = read_manifest(path)
        except ManifestError as exc:
            logger.warning("%s (run 'newsarchive verify' for details)", exc)
            continue
        manifests[document["crawl_id"]] = document
    return manifests
