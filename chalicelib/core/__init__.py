"""Core: the domain without I/O, what every feature builds on.

Owns surveys and question types (`surveys`), NPS and its statistics (`nps`), what an answer
adds to the counters (`counters`), alert rules (`alert_rules`), what a webhook endpoint is
(`webhook_spec`), weekday-morning schedules (`schedule`), keyword themes (`themes`),
sandboxed personalisation (`personalize`), signed tokens and ids (`signing`), errors
(`errors`), settings (`config`, with `secrets` behind it) and product metrics (`metrics`).

May use: the standard library and third-party libraries only. Imports no feature
(campaigns, sending, answers, loop, insight, admin, runtime) and no adapter (store, mail,
queue, web). Two modules touch the outside on purpose: `config`/`secrets` read the
environment and, on first use, SSM; `metrics` prints one log line that CloudWatch turns into
a metric.
"""
