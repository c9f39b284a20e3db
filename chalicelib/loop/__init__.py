"""The loop: what happens to an answer after it is counted.

Owns acknowledgements and the loop status of a case (`followups`), alerts to the CX team by
email and Slack (`alerts`) and signed outgoing webhooks (`webhooks`).

May use: answers, sending, campaigns, core and the adapters. Imports no insight.
"""
