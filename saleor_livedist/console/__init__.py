"""The merchant's console: server-rendered pages for staff (distributors, the ledger, failed events, rule
versions, lives and what goes with them), served under the plugin's console/ path and the sandbox's /console/."""
