"""The crawl check: the ledger, the manifests and the files tell one story.
Every finished crawl has the manifest it wrote, every manifest's crawl finished, the ledger was only appended to,
and every data file belongs to a crawl."""

from __future__ import annotations

from ..layout import ARTICLES, QUARANTINE, WARC, ArchiveLayout, committed_jsonl, committed_warcs
from ..ledger import Ledger, prefix_sha256
from .manifests import ManifestCheck
from .report import FIX_CRAWL_LOST, WARNING, VerifyReport


class CrawlCheck:
    """Checks the ledger against the manifests (ManifestCheck, already run), then the files no manifest lists."""

    def __init__(self, report: VerifyReport, layout: ArchiveLayout, ledger: Ledger, manifests: ManifestCheck) -> None:
        self.report = report
        self.layout = layout
        self.ledger = ledger
        self.manifests = manifests

    def run(self) -> None:
        self.check_ledger()
        self.check_unlisted()

    def check_unlisted(self) -> None:
        listed = self.manifests.listed
        candidates = [(ARTICLES, f) for f in committed_jsonl(self.layout.articles_dir)]
        candidates += [(QUARANTINE, f) for f in committed_jsonl(self.layout.quarantine_dir)]
        candidates += [(WARC, f) for f in committed_warcs(self.layout.warc_dir)]
        for kind, archive_file in candidates:
            if archive_file.prefix not in listed and self.ledger.finished(archive_file.prefix):
                continue  # the crawl's missing manifest is reported once, from the ledger
            if (
                archive_file.prefix not in listed
                and self.ledger.exists
                and archive_file.prefix not in self.ledger.crawls
            ):
                self.report.add(
                    archive_file.path,
                    None,
                    f"file of crawl {archive_file.prefix}, which the ledger never saw start",
                    "a file copied in from elsewhere, or its crawl's ledger lines were removed: find where it came "
                    "from and move it out of the archive, or restore ledger.jsonl from a backup",
                )
            elif archive_file.prefix not in listed:
                self.report.add(
                    archive_file.path,
                    None,
                    f"no manifest for crawl {archive_file.prefix} (crawl did not finish); file checked on its own",
                    "expected while a crawl runs or after it was killed; its records are usable, re-run the crawl to get a manifest",
                    WARNING,
                )
            elif (kind, archive_file.name) not in listed[archive_file.prefix]:
                self.report.add(
                    archive_file.path,
                    None,
                    f"not listed in the manifest of crawl {archive_file.prefix}, which finished without it: "
                    "a file added to the archive afterwards (never read)",
                    "find where it came from, then move it out of the archive; a finished crawl's manifest is the list of its files",
                )

    def check_ledger(self) -> None:
        """Every finished crawl in the ledger has the manifest it wrote; every manifest's crawl is in the ledger."""
        ledger, listed = self.ledger, self.manifests.listed
        self.check_ledger_prefixes()
        if not ledger.exists:
            if listed and not any(isinstance(m.get("ledger"), dict) for m in self.manifests.documents.values()):
                self.report.add(
                    ledger.path,
                    None,
                    f"no crawl ledger, though {len(listed)} crawl(s) have a manifest: a crawl deleted together with "
                    "its manifest would go unnoticed",
                    "expected for an archive written before the ledger existed; the next crawl starts one",
                    WARNING,
                )
            return
        self.report.files_checked += 1
        for number, problem in ledger.problems:
            self.report.add(
                ledger.path,
                number,
                f"ledger line unreadable: {problem}",
                "the ledger is only ever appended to: restore it from a backup",
            )
        for crawl_id, entry in sorted(ledger.crawls.items()):
            if entry.finished_line is None:
                continue
            if crawl_id not in self.manifests.sha:
                self.report.add(
                    ledger.path,
                    entry.finished_line,
                    f"crawl {crawl_id} finished, but manifests/{crawl_id}.json is missing (its files are unchecked)",
                    FIX_CRAWL_LOST,
                )
            elif self.manifests.sha[crawl_id] != entry.manifest_sha256:
                self.report.add(
                    self.layout.manifest_path(crawl_id),
                    None,
                    f"manifest differs from the one crawl {crawl_id} wrote (ledger line {entry.finished_line} "
                    f"records sha256 {entry.manifest_sha256})",
                    "the manifest was replaced or edited: restore it from a replica or backup",
                )
        for crawl_id in sorted(set(listed) - {c for c in ledger.crawls if ledger.finished(c)}):
            self.report.add(
                self.layout.manifest_path(crawl_id),
                None,
                f"the ledger does not record crawl {crawl_id} finishing: a manifest added to the archive afterwards",
                "find where it came from; if it is genuine, restore ledger.jsonl from a backup, else move the "
                "manifest and the crawl's files out of the archive",
            )

    def check_ledger_prefixes(self) -> None:
        """Each manifest keeps the size and hash of the ledger as its crawl left it: that much of it must be unchanged."""
        for crawl_id, manifest in sorted(self.manifests.documents.items()):
            seen = manifest.get("ledger")
            if not isinstance(seen, dict) or not isinstance(seen.get("bytes"), int):
                continue  # written before manifests recorded the ledger
            entry = self.ledger.crawls.get(crawl_id)
            if entry is not None and entry.merged_from is not None:
                continue  # the crawl was merged in: its manifest recorded the ledger of the archive it was written to
            path = self.layout.manifest_path(crawl_id)
            if not self.ledger.exists:
                self.report.add(
                    self.ledger.path,
                    None,
                    f"the crawl ledger is missing, though crawl {crawl_id} recorded it ({path.name})",
                    "restore ledger.jsonl from a replica or backup; without it a deleted crawl goes unnoticed",
                )
                return
            if prefix_sha256(self.ledger.path, seen["bytes"]) != seen.get("sha256"):
                self.report.add(
                    self.ledger.path,
                    None,
                    f"the first {seen['bytes']} bytes are not the ledger crawl {crawl_id} left ({path.name}): "
                    "lines were removed or edited since",
                    "the ledger is only ever appended to: restore it from a replica or backup",
                )
