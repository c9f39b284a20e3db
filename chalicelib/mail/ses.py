"""Amazon SES v2: raw MIME, so our headers (List-Unsubscribe, Message-ID) reach the inbox."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.mail.base import MailBackend
from chalicelib.mail.exceptions import MailError, MailRejected, MailThrottled
from chalicelib.mail.message import wire_bytes

THROTTLED = {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
PERMANENT = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "SendingPausedException",
    "NotFoundException",
    "BadRequestException",
}


class SesMailBackend(MailBackend):
    name = "ses"

    def __init__(self, client: Any, configuration_set: str | None = None) -> None:
        self.client = client
        self.configuration_set = configuration_set

    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        params: dict[str, Any] = {
            "FromEmailAddress": message["From"],
            "Destination": {"ToAddresses": [message["To"]]},
            "Content": {"Raw": {"Data": wire_bytes(message)}},
        }
        if tags:
            params["EmailTags"] = [{"Name": k, "Value": v} for k, v in tags.items()]
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            return self.client.send_email(**params)["MessageId"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            text = f"SES {code}: {exc.response.get('Error', {}).get('Message', '')}"
            if code in THROTTLED:
                raise MailThrottled(text) from exc
            if code in PERMANENT:
                raise MailRejected(text) from exc
            raise MailError(text) from exc
        except BotoCoreError as exc:
            raise MailError(f"SES unreachable: {exc}") from exc
