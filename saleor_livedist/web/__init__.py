"""The plugin's web endpoints: the API, share-link clicks, the viewer endpoint, the leaderboard widget."""
