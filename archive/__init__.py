"""Archive format of newsarchive: crash-safe JSONL article records, WARC captures, manifests, index, verification.
Importable without Scrapy (stdlib, warcio, surt and jsonschema only), so downstream tools can read archives directly.

Directory layout of an archive root::

    <root>/articles/<crawl_id>-<seq:05d>.jsonl.gz     article records, one JSON object per line
    <root>/quarantine/<crawl_id>-<seq:05d>.jsonl.gz   responses that could not become records, with the reason
    <root>/warc/<crawl_id>-<seq:05d>.warc.gz          raw request/response/revisit records (WARC 1.1)
    <root>/warc/<crawl_id>-<seq:05d>.warc.gz.cdxj     sorted CDXJ index of each WARC file
    <root>/manifests/<crawl_id>.json                  written last: files, checksums and counts of a finished crawl
    <root>/index.json                                 cache: article id -> latest text_sha256, version, url

Files are written under hidden temporary names (.<name>.part) and renamed only when complete, so
anything under a final name is whole. Readers never open .part files; the next writer in the same
directory sets them aside as .<name>.abandoned-N. Crawl ids (see layout.new_crawl_id) are
'YYYYMMDDTHHMMSSZ-xxxxxx', so names never collide and sort by crawl start.
"""
