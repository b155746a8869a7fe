"""The HTTP edge, where requests from the open internet arrive: limits on connections and request bodies,
the middlewares every request passes (request id and access line, CORS, the GraphQL request's budget),
bearer tokens parsed and sorted by kind, the app's keys, the probes, and fixed answers that echo nothing a
caller sent."""
