"""One Closeloop stage as a CloudFormation stack: the Chalice app and everything it needs.

Chalice packages the app (functions, API, schedules) into a SAM template; this stack includes it
and adds the tables (from the PynamoDB models), the work queue and its dead-letter queue, the
SES configuration set and its bounce and complaint topic, the secrets in SSM, one IAM role per
function (from infra/permissions.py), alarms and a dashboard. Nothing in it costs money while
idle except what docs/cost.md lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct
from pynamodb.models import Model

from chalicelib.core import metrics
from chalicelib.store.models import MODELS
from infra.bytecode import add_bytecode
from infra.permissions import PERMISSIONS, Grants, PermissionsError, grants_for, table_access
from infra.stages import LOG_RETENTION_DAYS, Stage
from infra.tables import TableSpec, table_specs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The constant names app.py's decorators use; each stage gets its own queue and topic.
WORK_QUEUE = "closeloop-work"
SES_EVENTS_TOPIC = "closeloop-ses-events"
# Chalice must be given some role ARN when it does not manage roles; every function's Role is
# then replaced by its own role, and the tests check that this value never reaches a template.
PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/replaced-by-infra"
SECRETS = {"signing-secrets": "random", "admin-token-hashes": "empty"}
MAX_RECEIVES = 5  # deliveries of a work item before it goes to the dead-letter queue
API_RATE_LIMIT, API_BURST_LIMIT = 100, 200  # requests a second: a ceiling on what abuse can cost
BOUNCE_RATE_LIMIT = 0.05
COMPLAINT_RATE_LIMIT = 0.001  # Gmail's recommended ceiling, well before its 0.3% limit
RETENTION = dict(
    zip(
        LOG_RETENTION_DAYS,
        (
            logs.RetentionDays.ONE_WEEK,
            logs.RetentionDays.TWO_WEEKS,
            logs.RetentionDays.ONE_MONTH,
            logs.RetentionDays.TWO_MONTHS,
            logs.RetentionDays.THREE_MONTHS,
            logs.RetentionDays.SIX_MONTHS,
            logs.RetentionDays.ONE_YEAR,
        ),
        strict=True,
    )
)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def chalice_name(logical_id: str, properties: Mapping[str, Any]) -> str:
    """The function's name in app.py: its handler is `app.<name>`, except the API's (`app.app`)."""
    handler = properties.get("Handler", "")
    module, _, attribute = handler.partition(".")
    if module != "app" or not attribute:
        raise PermissionsError(f"{logical_id}: unexpected handler {handler!r}")
    return "api_handler" if attribute == "app" else attribute


def _arn_name(value: Any) -> str:
    """The last part of an ARN as Chalice writes it (a string, or an Fn::Sub of one)."""
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        value = value["Fn::Sub"]
    if not isinstance(value, str):
        raise PermissionsError(f"cannot read an ARN from {value!r}")
    return value.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str  # as in app.py
    function_name: str  # as deployed
    properties: Mapping[str, Any]
    grants: Grants


class ChaliceWithBytecode(Chalice):
    """Chalice's construct, its deployment package byte-compiled before it becomes the functions' asset
    (infra/bytecode.py: a cold start that compiles nothing)."""

    def _package_app(self) -> None:
        super()._package_app()
        add_bytecode(Path(self._sam_package_dir) / "deployment.zip")


class CloseloopStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        stage: Stage,
        source_dir: Path = PROJECT_ROOT,
        permissions: Mapping[str, Grants] = PERMISSIONS,
        models: tuple[type[Model], ...] = MODELS,
    ) -> None:
        # The Chalice construct takes its stage name from the stack's id.
        super().__init__(
            scope,
            stage.name,
            stack_name=stage.resource_prefix,
            description=f"Closeloop, stage {stage.name}: email feedback on Lambda, DynamoDB and SES",
            termination_protection=stage.retain_data,
        )
        self.stage = stage
        cdk.Tags.of(self).add("app", "closeloop")
        cdk.Tags.of(self).add("stage", stage.name)
        self.specs = table_specs(models)
        self.chalice = ChaliceWithBytecode(
            self,
            "App",
            source_dir=str(source_dir),
            stage_config={
                "manage_iam_role": False,
                "iam_role_arn": PLACEHOLDER_ROLE,
                "environment_variables": self._environment(),
            },
        )
        self.functions = self._discover(permissions)
        self.tables = {suffix: self._table(spec) for suffix, spec in self.specs.items()}
        self.work_queue, self.dead_letters = self._queues()
        self.ses_events = sns.Topic(
            self,
            "SesEvents",
            topic_name=f"{stage.resource_prefix}-ses-events",
            display_name="SES bounces and complaints",
        )
        self.configuration_set = self._mail()
        self.parameter_arns, self.parameters = self._secrets()
        for function in self.functions:
            self._wire(function)
        self._protect_api()
        self.alarm_topic = sns.Topic(
            self, "Alarms", topic_name=f"{stage.resource_prefix}-alarms", display_name=f"Closeloop {stage.name} alarms"
        )
        if stage.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(stage.alarm_email))
        self._alarms()
        if stage.dashboard:
            self._dashboard()
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        cdk.CfnOutput(self, "SsmPrefix", value=stage.ssm_prefix)

    # --- configuration the functions read -------------------------------------------------

    def _environment(self) -> dict[str, str]:
        stage = self.stage
        return {
            "CLOSELOOP_STAGE": stage.name,
            "CLOSELOOP_MAIL_BACKEND": "ses",
            "CLOSELOOP_TABLE_PREFIX": stage.table_prefix,
            "CLOSELOOP_SSM_PREFIX": stage.ssm_prefix,
            "CLOSELOOP_SENDER": stage.sender,
            "CLOSELOOP_BASE_URL": stage.base_url,
            "CLOSELOOP_SES_CONFIGURATION_SET": stage.resource_prefix,
        }

    def _discover(self, permissions: Mapping[str, Grants]) -> list[Function]:
        """Every function Chalice packaged, each with its declared grants (or synthesis stops)."""
        # The construct does not expose the template it packaged; it is sam.json in its package dir.
        template = json.loads((Path(self.chalice._sam_package_dir) / "sam.json").read_text())
        functions = []
        for logical_id, resource in sorted(template["Resources"].items()):
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            properties = resource["Properties"]
            name = chalice_name(logical_id, properties)
            functions.append(
                Function(
                    logical_id=logical_id,
                    name=name,
                    function_name=f"{self.stage.resource_prefix}-{name}",
                    properties=properties,
                    grants=grants_for(name, permissions),
                )
            )
        if not functions:
            raise PermissionsError("Chalice packaged no function: is source_dir a Chalice project?")
        return functions

    # --- data ----------------------------------------------------------------------------

    def _table(self, spec: TableSpec) -> dynamodb.CfnTable:
        def keys(schema: list[dict[str, str]]) -> list[dynamodb.CfnTable.KeySchemaProperty]:
            return [
                dynamodb.CfnTable.KeySchemaProperty(attribute_name=k["AttributeName"], key_type=k["KeyType"])
                for k in schema
            ]

        table = dynamodb.CfnTable(
            self,
            f"{_camel(spec.suffix)}Table",
            table_name=spec.name(self.stage.table_prefix),
            billing_mode="PAY_PER_REQUEST",
            key_schema=keys(spec.key_schema),
            attribute_definitions=[
                dynamodb.CfnTable.AttributeDefinitionProperty(
                    attribute_name=a["AttributeName"], attribute_type=a["AttributeType"]
                )
                for a in spec.attribute_definitions
            ],
            global_secondary_indexes=[
                dynamodb.CfnTable.GlobalSecondaryIndexProperty(
                    index_name=index.name,
                    key_schema=keys(index.key_schema),
                    projection=dynamodb.CfnTable.ProjectionProperty(
                        projection_type=index.projection["ProjectionType"],
                        non_key_attributes=index.projection.get("NonKeyAttributes"),
                    ),
                )
                for index in spec.indexes
            ]
            or None,
            point_in_time_recovery_specification=dynamodb.CfnTable.PointInTimeRecoverySpecificationProperty(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_specification=dynamodb.CfnTable.TimeToLiveSpecificationProperty(
                attribute_name=spec.ttl_attribute, enabled=True
            )
            if spec.ttl_attribute
            else None,
            deletion_protection_enabled=self.stage.retain_data,
        )
        table.apply_removal_policy(cdk.RemovalPolicy.RETAIN if self.stage.retain_data else cdk.RemovalPolicy.DESTROY)
        return table

    def _queues(self) -> tuple[sqs.Queue, sqs.Queue]:
        prefix = self.stage.resource_prefix
        consumers = [f for f in self.functions if f.grants.consume_work_queue]
        # AWS advises a visibility timeout of six times the consuming function's timeout.
        timeout = max((int(f.properties.get("Timeout", 60)) for f in consumers), default=60)
        dead_letters = sqs.Queue(
            self,
            "WorkDeadLetters",
            queue_name=f"{prefix}-work-dead-letters",
            retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        work = sqs.Queue(
            self,
            "WorkQueue",
            queue_name=f"{prefix}-work",
            visibility_timeout=cdk.Duration.seconds(6 * timeout),
            retention_period=cdk.Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVES),
        )
        return work, dead_letters

    def _mail(self) -> ses.ConfigurationSet:
        """The sending identity (DKIM, custom MAIL FROM) and the configuration set that reports bounces."""
        stage = self.stage
        configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet", configuration_set_name=stage.resource_prefix, reputation_metrics=True
        )
        configuration_set.add_event_destination(
            "BouncesAndComplaints",
            destination=ses.EventDestination.sns_topic(self.ses_events),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
        )
        identity = ses.EmailIdentity(
            self,
            "SenderDomain",
            identity=ses.Identity.domain(stage.domain),
            configuration_set=configuration_set,
            mail_from_domain=f"bounce.{stage.domain}",
            mail_from_behavior_on_mx_failure=ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
        )
        for number, record in enumerate(identity.dkim_records, start=1):
            cdk.CfnOutput(self, f"DkimRecord{number}", value=cdk.Fn.join(" ", [record.name, "CNAME", record.value]))
        cdk.CfnOutput(self, "MailFromDomain", value=f"bounce.{stage.domain}")
        cdk.CfnOutput(self, "ConfigurationSetName", value=stage.resource_prefix)
        return configuration_set

    def _secrets(self) -> tuple[dict[str, str], list[cdk.CustomResource]]:
        """SecureString parameters, generated in the account by a small custom resource."""
        stage = self.stage
        names = {key: f"{stage.ssm_prefix}{key}" for key in SECRETS}
        arns = {key: self._parameter_arn(name) for key, name in names.items()}
        function_name = f"{stage.resource_prefix}-secure-parameters"
        log_group = self._log_group("SecureParametersLogs", function_name)
        role = iam.Role(
            self,
            "SecureParametersRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: create and delete the stage's SecureString parameters",
            inline_policies={
                "closeloop": iam.PolicyDocument(
                    statements=[
                        self._log_statement(log_group),
                        iam.PolicyStatement(
                            sid="OwnParameters",
                            actions=["ssm:PutParameter", "ssm:DeleteParameter"],
                            resources=sorted(arns.values()),
                        ),
                    ]
                )
            },
        )
        # A plain CfnFunction: the L2 Function adds a DependsOn on its role that cfn-lint flags as redundant.
        provider = lambda_.CfnFunction(
            self,
            "SecureParameters",
            function_name=function_name,
            description="Creates SSM SecureString parameters with generated values (CloudFormation cannot)",
            runtime="python3.12",
            handler="index.handler",
            code=lambda_.CfnFunction.CodeProperty(zip_file=(Path(__file__).parent / "secure_parameter.py").read_text()),
            timeout=30,
            memory_size=128,
            role=role.role_arn,
            logging_config=lambda_.CfnFunction.LoggingConfigProperty(log_group=log_group.log_group_name),
        )
        parameters = [
            cdk.CustomResource(
                self,
                f"{_camel(key)}Parameter",
                service_token=provider.attr_arn,
                resource_type="Custom::SecureStringParameter",
                properties={
                    "Name": name,
                    "Initial": SECRETS[key],
                    "Retain": "true" if stage.retain_data else "false",
                    "Description": f"Closeloop {stage.name} {key.replace('-', ' ')}, comma-separated, newest first",
                },
                removal_policy=cdk.RemovalPolicy.RETAIN if stage.retain_data else cdk.RemovalPolicy.DESTROY,
            )
            for key, name in names.items()
        ]
        return arns, parameters

    def _parameter_arn(self, name: str) -> str:
        return self.format_arn(
            service="ssm",
            resource="parameter",
            resource_name=name.lstrip("/"),
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )

    # --- functions -------------------------------------------------------------------------

    def _log_group(self, construct_id: str, function_name: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=f"/aws/lambda/{function_name}",
            retention=RETENTION[self.stage.log_retention_days],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

    @staticmethod
    def _log_statement(log_group: logs.LogGroup) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid="OwnLogGroup",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )

    def _wire(self, function: Function) -> None:
        """Give a packaged function its name, log group, role, environment and event sources."""
        resource = self.chalice.get_resource(function.logical_id)
        log_group = self._log_group(f"{function.logical_id}Logs", function.function_name)
        role = iam.Role(
            self,
            f"{function.logical_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function.function_name}: what infra/permissions.py grants {function.name}",
            inline_policies={"closeloop": iam.PolicyDocument(statements=self._statements(function, log_group))},
        )
        resource.add_property_override("FunctionName", function.function_name)
        resource.add_property_override("Role", role.role_arn)
        resource.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name, "LogFormat": "Text"})
        if function.grants.send_to_work_queue:
            resource.add_property_override("Environment.Variables.CLOSELOOP_WORK_QUEUE_URL", self.work_queue.queue_url)
        if function.grants.read_secrets:
            # The role names the parameters by ARN, which orders nothing: a schedule must not fire before they exist.
            for parameter in self.parameters:
                resource.add_dependency(parameter.node.default_child)
        consumes = False
        for event_id, event in sorted(function.properties.get("Events", {}).items()):
            kind, props = event["Type"], event.get("Properties", {})
            if kind == "Schedule":
                continue
            if kind == "SQS" and _arn_name(props.get("Queue")) == WORK_QUEUE:
                resource.add_property_override(f"Events.{event_id}.Properties.Queue", self.work_queue.queue_arn)
                consumes = True
            elif kind == "SNS" and _arn_name(props.get("Topic")) == SES_EVENTS_TOPIC:
                resource.add_property_override(f"Events.{event_id}.Properties.Topic", self.ses_events.topic_arn)
            else:
                raise PermissionsError(
                    f"{function.name}: event source {kind} {json.dumps(props)} is not one the stack provides "
                    f"(queue {WORK_QUEUE!r}, topic {SES_EVENTS_TOPIC!r}, schedules)"
                )
        if consumes != function.grants.consume_work_queue:
            raise PermissionsError(
                f"PERMISSIONS[{function.name!r}].consume_work_queue is {function.grants.consume_work_queue}, but the "
                f"function {'reads' if consumes else 'does not read'} the queue {WORK_QUEUE!r}"
            )

    def _statements(self, function: Function, log_group: logs.LogGroup) -> list[iam.PolicyStatement]:
        grants = function.grants
        statements = [self._log_statement(log_group)]
        for access in table_access(function.name, grants, self.specs):
            table = self.tables[access.table]
            sid = _camel(access.table)
            if access.actions:
                statements.append(
                    iam.PolicyStatement(
                        sid=f"Table{sid}",
                        actions=[f"dynamodb:{a}" for a in access.actions],
                        resources=[table.attr_arn],
                    )
                )
            for kind, action, indexes in (("Indexes", "Query", access.indexes), ("IndexScans", "Scan", access.scanned)):
                if indexes:
                    statements.append(
                        iam.PolicyStatement(
                            sid=f"{kind}{sid}",
                            actions=[f"dynamodb:{action}"],
                            resources=[f"{table.attr_arn}/index/{index}" for index in indexes],
                        )
                    )
        if grants.send_mail:
            statements.append(
                iam.PolicyStatement(
                    sid="SendMail",
                    actions=["ses:SendEmail", "ses:SendRawEmail"],
                    resources=[
                        self.format_arn(
                            service="ses",
                            resource="identity",
                            resource_name=self.stage.domain,
                            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
                        ),
                        self.format_arn(
                            service="ses",
                            resource="configuration-set",
                            resource_name=self.configuration_set.configuration_set_name,
                            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
                        ),
                    ],
                )
            )
        if grants.read_secrets:
            statements.append(
                iam.PolicyStatement(
                    sid="ReadSecrets", actions=["ssm:GetParameters"], resources=sorted(self.parameter_arns.values())
                )
            )
        if grants.send_to_work_queue:
            statements.append(
                iam.PolicyStatement(sid="SendWork", actions=["sqs:SendMessage"], resources=[self.work_queue.queue_arn])
            )
        if grants.consume_work_queue:
            statements.append(
                iam.PolicyStatement(
                    sid="ConsumeWork",
                    actions=[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    resources=[self.work_queue.queue_arn],
                )
            )
        return statements

    def _protect_api(self) -> None:
        """Throttle the public API so that a flood of requests cannot run up an unbounded bill."""
        self.chalice.get_resource("RestAPI").add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": API_RATE_LIMIT,
                    "ThrottlingBurstLimit": API_BURST_LIMIT,
                }
            ],
        )

    # --- operations ------------------------------------------------------------------------

    def _alarm(self, construct_id: str, metric: cw.IMetric, threshold: float, description: str, **kwargs: Any) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_name=f"{self.stage.resource_prefix}-{construct_id}",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=kwargs.pop(
                "comparison_operator", cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
            ),
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            **kwargs,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        alarm.add_ok_action(cw_actions.SnsAction(self.alarm_topic))

    def _function_metric(self, function: Function, name: str, label: str | None = None) -> cw.Metric:
        """Labels are for graphs: an alarm on a labelled metric becomes a metric-math alarm."""
        return cw.Metric(
            namespace="AWS/Lambda",
            metric_name=name,
            dimensions_map={"FunctionName": function.function_name},
            statistic="Sum",
            period=cdk.Duration.minutes(5),
            label=label,
        )

    def _alarms(self) -> None:
        """Few alarms on purpose: each costs $0.10 a month beyond the account's 10 free ones."""
        self._alarm(
            "dead-letters",
            self.dead_letters.metric_approximate_number_of_messages_visible(
                statistic="Maximum", period=cdk.Duration.minutes(5)
            ),
            1,
            f"Work items failed {MAX_RECEIVES} times and wait in {self.dead_letters.queue_name}: inspect and redrive.",
        )
        for function in self.functions:
            self._alarm(
                f"errors-{function.name}",
                self._function_metric(function, "Errors"),
                1,
                f"{function.function_name} raised an error: see its log group.",
            )
        self._alarm(
            "throttles",
            cw.Metric(namespace="AWS/Lambda", metric_name="Throttles", statistic="Sum", period=cdk.Duration.minutes(5)),
            1,
            "Lambda throttled invocations in this account and region: concurrency is an account-wide limit, "
            "so any function's throttles can delay Closeloop's.",
        )
        self._alarm(
            "ses-bounce-rate",
            cw.Metric(
                namespace="AWS/SES",
                metric_name="Reputation.BounceRate",
                statistic="Maximum",
                period=cdk.Duration.hours(1),
            ),
            BOUNCE_RATE_LIMIT,
            "SES bounce rate above 5%: SES reviews accounts at 5% and may pause sending at 10%.",
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self._alarm(
            "ses-complaint-rate",
            cw.Metric(
                namespace="AWS/SES",
                metric_name="Reputation.ComplaintRate",
                statistic="Maximum",
                period=cdk.Duration.hours(1),
            ),
            COMPLAINT_RATE_LIMIT,
            "SES complaint rate above 0.1%, Gmail's recommended ceiling (it rejects bulk mail at 0.3%).",
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )

    def _dashboard(self) -> None:
        def product(name: str) -> cw.Metric:
            return cw.Metric(
                namespace=metrics.NAMESPACE,
                metric_name=name,
                dimensions_map={"Stage": self.stage.name},
                statistic="Sum",
                period=cdk.Duration.hours(1),
            )

        queue_period = cdk.Duration.minutes(5)
        dashboard = cw.Dashboard(
            self, "Dashboard", dashboard_name=self.stage.resource_prefix, default_interval=cdk.Duration.days(7)
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Answers recorded and acknowledgements sent (per hour)",
                left=[product(metrics.ANSWERS_RECORDED), product(metrics.ACKNOWLEDGEMENTS_SENT)],
                width=12,
            ),
            cw.GraphWidget(
                title="Scanner clicks filtered (per hour)", left=[product(metrics.SCANNER_CLICKS_FILTERED)], width=12
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Work queue depth",
                left=[
                    self.work_queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=queue_period, label="waiting"
                    ),
                    self.dead_letters.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=queue_period, label="dead letters"
                    ),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Function errors",
                left=[self._function_metric(f, "Errors", label=f.name) for f in self.functions],
                width=12,
            ),
        )
