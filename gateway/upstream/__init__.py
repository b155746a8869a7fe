"""REST clients of the upstreams (httpx). Knows HTTP and vendor JSON, never GraphQL."""
