"""The distributor's center: mobile-first pages a storefront embeds (links with QR codes and posters, tasks, the
leaderboard, customers and prospects, earnings, clips), signed in with the customer's own access token."""
