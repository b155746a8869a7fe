"""The HTTP edge, where requests from the open internet arrive: limits on connections and request bodies,
bearer tokens parsed and sorted by kind, and fixed answers that echo nothing a caller sent."""
