"""A home for Delighted's users: its v1 API for their apps and SDKs, and the import of their exported
history. May use admin, runtime, privacy, the features, core and the adapters."""
