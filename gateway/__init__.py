"""A GraphQL gateway over the customer operations of Polar, with an embedded Polar sandbox."""
