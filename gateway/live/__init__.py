"""Live customers: Polar's webhooks in (verified, deduplicated), customer changes out to subscribers, through
Redis when several instances share them."""
