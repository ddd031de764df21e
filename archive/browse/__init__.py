"""`newsarchive browse`: a read-only web view of an archive that shows what the cleaner did, page by page.
A Flask app over an index kept outside the archive; it imports no Scrapy and never writes into the archive."""
