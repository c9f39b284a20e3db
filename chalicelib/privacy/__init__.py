"""Deleting a person and everything about them, and the retention of comments and properties.
May use the features (insight and below), core and the adapters."""
