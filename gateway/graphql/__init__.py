"""The GraphQL schema (Strawberry). Knows GraphQL, never the HTTP details of the upstreams."""
