"""Sending: everything that leaves, exactly once.

Owns invitations (ids, links, personalised emails: `invitations`), delivery (sending at most
once per claim, reminders, recurring rounds, fan-out, the dispatcher: `delivery`), imports of
contacts as invitations (`imports`) and the delivery ledger that alerts, webhooks and digests
also send through (`ledger`).

May use: campaigns, core and the adapters. Imports no feature above it (answers, loop,
insight).
"""
