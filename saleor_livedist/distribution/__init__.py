"""Distribution: share links, clicks and bindings, becoming a distributor."""
