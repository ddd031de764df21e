"""Item pipelines, one module per stage: clean (bytes -> record), validate (schema), store (archive files).
The record and quarantine builders they share are pure functions in `records`."""
