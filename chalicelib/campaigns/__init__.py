"""Campaigns: what is asked and of whom, before anything is sent.

Owns campaigns (options, states, the cached view every other feature reads: `campaigns`),
contacts and their addresses (`contacts`) and the suppression list (`suppression`: bounces,
complaints and unsubscribes, never mailed again).

May use: core and the adapters (store, mail, queue, web). Imports no other feature.
"""
