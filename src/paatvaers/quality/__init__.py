"""Follow-up of data quality (R12), correspondence availability (R13) and rollout (R15):
aggregate figures computed from what ingestion stored, alerts on documented thresholds, daily
snapshots for trends, and one report that the dashboard, the CLI and the CSV export share.
Counts of 1–4 never leave the report layer (`suppression`). See docs/quality.md."""
