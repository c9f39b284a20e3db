"""The parameters of each stage (dev, prod), from infra/stages.json: edit that file before deploying."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from email.utils import parseaddr
from pathlib import Path

STAGES_FILE = Path(__file__).resolve().parent / "stages.json"
LOG_RETENTION_DAYS = (7, 14, 30, 60, 90, 180, 365)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Stage:
    """What differs between deployments; everything else is the same code and the same stack."""

    name: str
    domain: str  # the SES identity mail is sent from (DKIM-signed, with a custom MAIL FROM)
    sender: str  # the From header; its address is at `domain` (the roles may send as that identity only)
    base_url: str  # where the answer pages are reached: the links in every email
    table_prefix: str
    alarm_email: str  # operators' address for alarms; "" to subscribe later
    dashboard: bool  # CloudWatch dashboards are free for 3 per account, $3 a month each after
    retain_data: bool  # tables and secrets survive `cdk destroy`; tables get deletion protection
    log_retention_days: int

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1].lower()

    @property
    def ssm_prefix(self) -> str:
        return f"/closeloop/{self.name}/"

    @property
    def resource_prefix(self) -> str:
        """Names of the stage's queues, topics, functions and alarms start with this."""
        return f"closeloop-{self.name}"

    def check(self) -> None:
        """Fail synthesis on a parameter AWS would reject only halfway through a deployment."""
        problems = []
        if not _DOMAIN.match(self.domain):
            problems.append(f"domain {self.domain!r} is not a domain name")
        address = self.sender_address
        if address.rpartition("@")[2] != self.domain:
            problems.append(f"sender {self.sender!r} must be an address at {self.domain}")
        if not self.base_url.startswith("https://") or self.base_url.endswith("/"):
            problems.append(f"base_url {self.base_url!r} must start with https:// and not end with /")
        if not re.fullmatch(r"[a-z0-9-]+-", self.table_prefix):
            problems.append(f"table_prefix {self.table_prefix!r}: lower-case letters, digits and '-', ending in '-'")
        if self.alarm_email and "@" not in self.alarm_email:
            problems.append(f"alarm_email {self.alarm_email!r} is not an address")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(f"log_retention_days must be one of {LOG_RETENTION_DAYS}")
        if problems:
            raise ValueError(f"infra/stages.json, stage {self.name}: " + "; ".join(problems))


def load_stages(path: Path = STAGES_FILE) -> dict[str, Stage]:
    """Every stage in the file, checked."""
    raw = json.loads(path.read_text())
    expected = {f.name for f in fields(Stage)} - {"name"}
    stages = {}
    for name, values in raw.items():
        if set(values) != expected:
            missing, unknown = expected - set(values), set(values) - expected
            raise ValueError(f"{path.name}, stage {name}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        stage = Stage(name=name, **values)
        stage.check()
        stages[name] = stage
    return stages
