"""Answers: what a customer does on the survey page, and counting it.

Owns the survey pages (`survey_pages`), recording an answer with one write and the scanner
rules (`responses`), and the counting applier that moves the counters by every change exactly
once and schedules what trails an answer (`counting`).

May use: sending, campaigns, core and the adapters. Imports neither loop nor insight.
"""
