"""Archive format of newsarchive: crash-safe JSONL records, WARC captures, manifests, ledger, index, verification.
Importable without Scrapy (stdlib, warcio, surt and jsonschema only), so downstream tools can read archives directly; the
layout and its rules are in docs/archive.md."""
