"""Runtime: what runs outside a request, beside admin.

Owns the queue consumer that hands each message to its feature (`work`), the scheduled
functions found by name for `run-job` and the local clock (`jobs`) and the demo seed (`demo`).

May use: every feature, core and the adapters. Only app.py, the CLI and localdev import it.
"""
