"""Insight: what the numbers say, read from the counters.

Owns the digest and who receives it (`digest`, `digest_recipients`), reports and the CSV
export (`reports`), campaign statistics (`stats`) and the counter rebuild (`rebuild`).

May use: every feature below it (loop, answers, sending, campaigns), core and the adapters.
"""
