"""Upstream reads kept for later requests: Polar's customers and states (and Voucherify's customers, with a TTL
only), per caller, in this process or in Redis, invalidated by writes through the gateway and by Polar's
webhooks. ``store`` and ``redis_store`` hold bytes; ``reads`` knows records and callers; ``service`` builds it
from the settings."""
