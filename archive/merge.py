"""`newsarchive merge DEST SRC...`: copy the crawls of other archives into one, files and manifests as they were written.
Each crawl keeps its name, files, manifest and ledger lines; sources whose records would give an article two versions of
one number are refused, so every article keeps one version chain and the result verifies."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .index import ArchiveIndex
from .layout import (
    ARTICLES,
    QUARANTINE,
    WARC,
    ArchiveFile,
    ArchiveLayout,
    check_archive_root,
    committed_jsonl,
    committed_warcs,
)
from .ledger import FINISHED, MERGED_FROM, STARTED, append_event, read_ledger
from .manifest import load_manifests
from .reader import read_jsonl
from .verify import verify_archive
from .verify.report import sha256_of
from .writer import DirectoryLock, commit_file, write_bytes_atomic

logger = logging.getLogger(__name__)

# The order files of a crawl are copied in: its WARC files first (records point into them), as a crawl commits them.
COPY_ORDER = (WARC, ARTICLES, QUARANTINE)
# How many clashes a refusal names.
CLASHES_SHOWN = 3


class MergeError(ValueError):
    """Archives that cannot be merged; the message says which, why and what to do."""


@dataclass
class CrawlFiles:
    """One crawl of a source archive: its committed files by kind, its manifest (None if it did not finish) and what
    the source's ledger says of it."""

    crawl_id: str
    files: dict[str, list[Path]] = field(default_factory=dict)
    manifest: Path | None = None
    started_at: str | None = None
    finished_at: str | None = None

    def paths(self) -> Iterator[tuple[str, Path]]:
        """(kind, path) of every file, in the order they are copied (a WARC's CDXJ right after it)."""
        for kind in COPY_ORDER:
            for path in self.files.get(kind, []):
                yield kind, path
                if kind == WARC and path.with_name(path.name + ".cdxj").is_file():
                    yield WARC, path.with_name(path.name + ".cdxj")


@dataclass
class MergeReport:
    """What a merge did: crawls copied (with their files) and crawls the destination held already."""

    copied: dict[str, int] = field(default_factory=dict)
    present: list[str] = field(default_factory=list)


def crawls_of(root: Path) -> dict[str, CrawlFiles]:
    """Every crawl of an archive: from its ledger, its manifests and the names of its committed files."""
    layout = ArchiveLayout(root)
    crawls: dict[str, CrawlFiles] = {}
    listed: list[tuple[str, ArchiveFile]] = [(WARC, f) for f in committed_warcs(layout.warc_dir)]
    listed += [(ARTICLES, f) for f in committed_jsonl(layout.articles_dir)]
    listed += [(QUARANTINE, f) for f in committed_jsonl(layout.quarantine_dir)]
    for kind, archive_file in listed:
        crawls.setdefault(archive_file.prefix, CrawlFiles(archive_file.prefix)).files.setdefault(kind, []).append(
            archive_file.path
        )
    for crawl_id, document in load_manifests(root).items():
        crawl = crawls.setdefault(crawl_id, CrawlFiles(crawl_id))
        crawl.manifest = layout.manifest_path(crawl_id)
        crawl.started_at, crawl.finished_at = document["started_at"], document["finished_at"]
    for crawl_id, entry in read_ledger(root).crawls.items():
        if crawl_id in crawls:
            crawls[crawl_id].started_at = crawls[crawl_id].started_at or entry.started_at
    return crawls


def _records(paths: list[Path]) -> Iterator[tuple[str, int, str]]:
    for path in paths:
        for record in read_jsonl(path):
            yield record["id"], record["version"], path.name


def check_clashes(held: dict[tuple[str, int], str], crawl: CrawlFiles) -> None:
    """Add the crawl's (id, version) pairs to `held` (pair -> file); MergeError naming the first clashes if one of
    them is held already: two versions of one number would split the article's chain."""
    clashes = []
    for ident, version, name in _records(crawl.files.get(ARTICLES, [])):
        other = held.setdefault((ident, version), name)
        if other != name:
            clashes.append(f"article {ident} version {version} in {name} and in {other}")
    if clashes:
        raise MergeError(
            f"crawl {crawl.crawl_id} cannot be merged: {'; '.join(clashes[:CLASHES_SHOWN])}"
            + (f" (and {len(clashes) - CLASHES_SHOWN} more)" if len(clashes) > CLASHES_SHOWN else "")
            + ". Archives merge when their crawls shared one article index (the workers of one distributed crawl, "
            "`newsarchive crawl --redis`, each writing its own directory) or hold different articles; two archives "
            "that each crawled the same articles on their own number their versions apart: keep one of them, or "
            "crawl into one archive"
        )


def check_sources(dest: Path, sources: list[Path]) -> None:
    """MergeError unless every source is an archive that verifies, none is the destination or inside it."""
    for source in sources:
        try:
            check_archive_root(source)
        except ValueError as exc:
            raise MergeError(str(exc)) from exc
        if source.resolve() == dest.resolve() or dest.resolve().is_relative_to(source.resolve()):
            raise MergeError(f"{source}: the destination {dest} is this archive or inside it; merge into another one")
    for archive in [*([dest] if dest.exists() else []), *sources]:
        errors = verify_archive(archive).errors
        if errors:
            shown = "; ".join(problem.format() for problem in errors[:CLASHES_SHOWN])
            raise MergeError(
                f"{archive} does not verify ({len(errors)} errors, e.g. {shown}); merge only whole archives "
                f"(run `newsarchive verify {archive}` and repair it first)"
            )


def copy_file(source: Path, target: Path) -> None:
    """Copy a committed file under its name, crash-safe (a hidden .part, fsynced, renamed); an identical file already
    there is kept, a different one is refused."""
    if target.exists():
        if sha256_of(target) != sha256_of(source):
            raise MergeError(f"{target} exists with other content than {source}; the archives disagree about it")
        return
    part = target.with_name(f".{target.name}.part")
    with open(source, "rb") as reading, open(part, "wb") as writing:
        shutil.copyfileobj(reading, writing)
        writing.flush()
        os.fsync(writing.fileno())
    commit_file(part, target)


class DestinationLocks:
    """The destination's directory locks, held for the whole merge: a crawl into it meanwhile is refused."""

    def __init__(self, layout: ArchiveLayout) -> None:
        layout.ensure_dirs()
        self.locks = [DirectoryLock(layout.dir_for_kind(kind)) for kind in COPY_ORDER]

    def __enter__(self) -> DestinationLocks:
        taken = []
        try:
            for lock in self.locks:
                lock.acquire()
                taken.append(lock)
        except BaseException:
            for lock in taken:
                lock.release()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        for lock in self.locks:
            lock.release()


def same_crawl(crawl: CrawlFiles, other: CrawlFiles, source: Path) -> None:
    """MergeError unless two copies of a crawl are one finished crawl (the same manifest, byte for byte)."""
    if crawl.manifest is None or other.manifest is None or sha256_of(crawl.manifest) != sha256_of(other.manifest):
        raise MergeError(
            f"crawl {crawl.crawl_id} of {source} is also in another of the archives, and not as the same finished "
            "crawl (its manifests differ, or one of them did not finish); merge the archive that holds it whole"
        )


def plan_merge(dest: Path, sources: list[Path], report: MergeReport) -> list[tuple[Path, CrawlFiles]]:
    """The (source, crawl) pairs to copy, oldest crawl first; crawls the destination finished already are noted in
    `report`. MergeError if two copies of a crawl differ or records clash."""
    present = crawls_of(dest)
    ledger = read_ledger(dest)
    plan: dict[str, tuple[Path, CrawlFiles]] = {}
    for source in sources:
        for crawl in crawls_of(source).values():
            if ledger.finished(crawl.crawl_id):
                same_crawl(crawl, present[crawl.crawl_id], source)
                report.present.append(crawl.crawl_id)
            elif crawl.crawl_id in plan:
                same_crawl(crawl, plan[crawl.crawl_id][1], source)
            else:
                plan[crawl.crawl_id] = (source, crawl)
    held: dict[tuple[str, int], str] = {}
    for crawl_id, crawl in present.items():
        if crawl_id not in plan:  # a crawl an interrupted merge began is checked as the source's copy
            check_clashes(held, crawl)
    for _, crawl in plan.values():
        check_clashes(held, crawl)
    return sorted(plan.values(), key=lambda item: (item[1].started_at or "", item[1].crawl_id))


def merge_archives(dest: Path | str, sources: list[Path | str]) -> MergeReport:
    """Copy every crawl of `sources` that `dest` lacks into `dest` (created if missing); see the module docstring.

    A crawl the destination has started but not finished (a merge that was interrupted) is completed. Raises
    MergeError (nothing copied) when the sources clash or do not verify, DirectoryBusyError when a crawl is writing.
    """
    dest, paths = Path(dest), [Path(source) for source in sources]
    if dest.exists():
        try:
            check_archive_root(dest)
        except ValueError as exc:
            raise MergeError(str(exc)) from exc
    check_sources(dest, paths)
    layout = ArchiveLayout(dest)
    report = MergeReport()
    with DestinationLocks(layout):
        plan = plan_merge(dest, paths, report)
        started = read_ledger(dest).crawls
        for source, crawl in plan:
            report.copied[crawl.crawl_id] = copy_crawl(layout, source, crawl, crawl.crawl_id in started)
        if plan:
            ArchiveIndex.open(dest)  # rebuilt from the article files and saved: the cache of the merged archive
    return report


def copy_crawl(layout: ArchiveLayout, source: Path, crawl: CrawlFiles, started: bool) -> int:
    """Copy one crawl in commit order: ledger `started`, files, manifest, ledger `finished` naming the source."""
    root = layout.root
    if not started:
        append_event(root, STARTED, crawl.crawl_id, crawl.started_at or "")
    copied = 0
    for kind, path in crawl.paths():
        copy_file(path, layout.dir_for_kind(kind) / path.name)
        copied += 1
    if crawl.manifest is not None:
        data = crawl.manifest.read_bytes()
        target = layout.manifest_path(crawl.crawl_id)
        if not target.exists():
            write_bytes_atomic(target, data)
        append_event(
            root,
            FINISHED,
            crawl.crawl_id,
            crawl.finished_at or "",
            manifest_sha256=hashlib.sha256(data).hexdigest(),
            **{MERGED_FROM: str(source.resolve())},
        )
    logger.info("merged crawl %s from %s (%d files)", crawl.crawl_id, source, copied)
    return copied
