"""The CX team's web dashboard under /dashboard: server-rendered pages (Jinja2) for people who sign in
by an emailed one-time link.

`web` is what every page builds on (the signed-in `Person`, the `Ctx` a view receives, the `view`
decorator that checks the session, the role and the CSRF token, `page` and `redirect`); `people`
owns who may sign in; `sessions` owns sign-in links, sessions and their CSRF tokens; `access` holds
the routes for signing in and out, people and API tokens. Pages render from the same use cases the
admin API calls: a rule is never copied here.

May use: admin, runtime, the features, core, adapters. Nothing below imports the dashboard.
"""
