"""Payouts: approved commission becomes a withdrawable balance; distributors ask for withdrawals, staff decide,
approved ones leave in payout batches (CSV and a signed webhook) and are marked paid. docs/payouts.md."""
