"""The data loop: what the engine recorded (clicks, watches, orders, bindings, the ledger) read back as reports
for the merchant's console, aggregated in SQL (docs/reports.md). Each report takes a ReportFilter and returns
a list of small frozen rows; `to_csv` writes any of them."""
