"""A stateful emulator of Voucherify's Customers API (docs/upstream/voucherify-customers.md), beside the Polar one."""
