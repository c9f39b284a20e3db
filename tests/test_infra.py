"""The deployment as code (infra/): both stages synthesized once, offline, and their templates checked.

Nothing here reaches AWS. The templates are what `cdk deploy` would submit, so what these tests
assert is what an account gets: the resources, their protection, and who may do what.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import assertions
from chalice.app import ScheduledEventConfig
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core import metrics, secrets
from chalicelib.store.models import MODELS
from infra import cost, secure_parameter
from infra.app import synthesize
from infra.permissions import PERMISSIONS, Grants, PermissionsError, table_access
from infra.stack import PLACEHOLDER_ROLE
from infra.stages import Stage, load_stages
from infra.tables import table_spec, table_specs, ttl_attribute

STAGES = load_stages()
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
GUARDED_SERVICES = ("dynamodb", "ses", "sqs", "ssm")


@pytest.fixture(scope="session")
def assembly(tmp_path_factory):
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def templates(assembly) -> dict[str, dict]:
    return {name: assembly.get_stack_by_name(stage.resource_prefix).template for name, stage in STAGES.items()}


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == kind}


def functions(template: dict) -> dict[str, dict]:
    """Every Lambda function, by its deployed name."""
    return {r["Properties"]["FunctionName"]: r for r in template["Resources"].values() if r["Type"] in FUNCTION_TYPES}


def role_statements(template: dict, function: dict) -> list[dict]:
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def table_ids(template: dict) -> dict[str, str]:
    """Table logical id -> the model's TABLE suffix."""
    prefix_free = {}
    for key, table in resources(template, "AWS::DynamoDB::Table").items():
        prefix_free[key] = table["Properties"]["TableName"]
    return prefix_free


def dynamodb_access(template: dict, statements: list[dict], prefix: str) -> dict[str, set[str]]:
    """{"invitations": {"UpdateItem", "Query:send-due"}, ...} as the role's statements grant it."""
    names = table_ids(template)
    access: dict[str, set[str]] = {}
    for statement in statements:
        actions = [a.removeprefix("dynamodb:") for a in as_list(statement["Action"]) if a.startswith("dynamodb:")]
        if not actions:
            continue
        for resource in as_list(statement["Resource"]):
            if "Fn::GetAtt" in resource:
                table, index = resource["Fn::GetAtt"][0], None
            else:
                parts = resource["Fn::Join"][1]
                table, index = parts[0]["Fn::GetAtt"][0], parts[1].removeprefix("/index/")
            suffix = names[table].removeprefix(prefix)
            access.setdefault(suffix, set()).update(f"{a}:{index}" if index else a for a in actions)
    return access


def declared_access(grants: Grants) -> dict[str, set[str]]:
    return {table: set(actions) for table, actions in grants.tables.items()}


# --- tables ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_every_model_is_an_on_demand_table_with_point_in_time_recovery(templates, stage):
    template = assertions.Template.from_json(templates[stage])
    template.resource_count_is("AWS::DynamoDB::Table", len(MODELS))
    template.all_resources_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    names = {t["Properties"]["TableName"] for t in resources(templates[stage], "AWS::DynamoDB::Table").values()}
    assert names == {STAGES[stage].table_prefix + model.TABLE for model in MODELS}


def test_tables_have_exactly_the_keys_and_indexes_the_models_declare(templates):
    tables = {
        t["Properties"]["TableName"]: t["Properties"]
        for t in resources(templates["prod"], "AWS::DynamoDB::Table").values()
    }
    for model in MODELS:
        spec = table_spec(model)
        table = tables[f"closeloop-prod-{model.TABLE}"]
        assert table["KeySchema"] == spec.key_schema
        assert table["AttributeDefinitions"] == spec.attribute_definitions
        indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in spec.indexes}
        for index in spec.indexes:
            assert indexes[index.name]["KeySchema"][0]["KeyType"] == "HASH"
            assert indexes[index.name]["KeySchema"] == index.key_schema
            assert indexes[index.name]["Projection"] == index.projection
    invitations = tables["closeloop-prod-invitations"]
    assert {i["IndexName"] for i in invitations["GlobalSecondaryIndexes"]} >= {
        "ack-due",
        "send-due",
        "campaign-responses",
    }


def test_prod_tables_survive_a_stack_deletion_and_dev_tables_do_not(templates):
    prod = assertions.Template.from_json(templates["prod"])
    prod.all_resources("AWS::DynamoDB::Table", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    prod.all_resources_properties("AWS::DynamoDB::Table", {"DeletionProtectionEnabled": True})
    dev = assertions.Template.from_json(templates["dev"])
    dev.all_resources("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})
    dev.all_resources_properties("AWS::DynamoDB::Table", {"DeletionProtectionEnabled": False})


def test_items_expire_only_on_tables_whose_model_declares_a_ttl_attribute(templates):
    specs = table_specs()
    for table in resources(templates["prod"], "AWS::DynamoDB::Table").values():
        suffix = table["Properties"]["TableName"].removeprefix("closeloop-prod-")
        expected = specs[suffix].ttl_attribute
        ttl = table["Properties"].get("TimeToLiveSpecification")
        assert ttl == ({"AttributeName": expected, "Enabled": True} if expected else None)
    assert ttl_attribute(LedgerWithTtl) == "expires_at"
    expiring = {model.TABLE: ttl_attribute(model) for model in MODELS if ttl_attribute(model)}
    # the ledgers and the dashboard's sign-in links and sessions; never answers
    assert expiring == {
        "rate-limits": "expires",
        "deliveries": "expires",
        "sign-in-links": "expires",
        "dashboard-sessions": "expires",
    }


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_no_policy_grants_wildcard_actions_or_wildcard_resources(templates, stage):
    template = templates[stage]
    statements = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            assert not properties.get("ManagedPolicyArns"), "roles carry only their own inline policy"
            statements += [s for p in properties.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements += properties["PolicyDocument"]["Statement"]
        elif resource["Type"] == "AWS::Serverless::Function":
            assert "Policies" not in properties
    assert statements
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        assert all(a != "*" and not a.endswith(":*") for a in actions), statement
        if any(a.split(":")[0] in GUARDED_SERVICES for a in actions):
            assert "*" not in json.dumps(statement["Resource"]), statement


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_has_its_own_role(templates, stage):
    template = templates[stage]
    deployed = functions(template)
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in deployed.values()]
    assert len(set(roles)) == len(roles) == len(deployed) == len(resources(template, "AWS::IAM::Role"))
    assert PLACEHOLDER_ROLE not in json.dumps(template)
    assert set(deployed) >= {
        f"closeloop-{stage}-{name}"
        for name in ("api_handler", "work_queue", "ses_events", "dispatch_due", "apply_counts")
    }


def test_each_role_reaches_only_the_tables_and_indexes_its_permissions_entry_names(templates):
    template = templates["prod"]
    for name, function in functions(template).items():
        if function["Type"] != "AWS::Serverless::Function":
            continue
        grants = PERMISSIONS[name.removeprefix("closeloop-prod-")]
        statements = role_statements(template, function)
        assert dynamodb_access(template, statements, "closeloop-prod-") == declared_access(grants), name
        actions = {a for s in statements for a in as_list(s["Action"])}
        assert ("ses:SendEmail" in actions) == grants.send_mail
        assert ("ssm:GetParameters" in actions) == grants.read_secrets
        assert ("sqs:SendMessage" in actions) == grants.send_to_work_queue


def test_the_dispatcher_may_update_invitations_but_not_create_them_nor_send_mail(templates):
    template = templates["prod"]
    dispatcher = functions(template)["closeloop-prod-dispatch_due"]
    statements = role_statements(template, dispatcher)
    access = dynamodb_access(template, statements, "closeloop-prod-")
    assert access["invitations"] == {"UpdateItem", "Query:send-due"}
    assert "api-tokens" not in access and "contacts" not in access
    assert "ses:SendEmail" not in {a for s in statements for a in as_list(s["Action"])}


def test_only_the_api_deletes_people_and_it_may_only_add_to_the_deletions_record(templates):
    template = templates["prod"]
    for name, function in functions(template).items():
        if function["Type"] != "AWS::Serverless::Function":
            continue
        access = dynamodb_access(template, role_statements(template, function), "closeloop-prod-")
        if name == "closeloop-prod-api_handler":
            assert access["deletions"] == {"PutItem"}  # who, when, how many: written, never read or changed
            assert "DeleteItem" in access["contacts"] & access["invitations"]
        else:
            assert "deletions" not in access, name
            assert "DeleteItem" not in access.get("contacts", set()) | access.get("invitations", set()), name


def test_each_function_writes_only_to_its_own_log_group(templates):
    template = templates["dev"]
    for name, function in functions(template).items():
        [logs] = [s for s in role_statements(template, function) if s["Action"][0].startswith("logs:")]
        group = template["Resources"][logs["Resource"]["Fn::GetAtt"][0]]
        assert group["Properties"]["LogGroupName"] == f"/aws/lambda/{name}"
        assert group["Properties"]["RetentionInDays"] == STAGES["dev"].log_retention_days


# --- configuration and secrets ---------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_functions_get_their_settings_from_the_environment_and_no_secret_is_in_the_template(templates, stage):
    settings = STAGES[stage]
    for function in functions(templates[stage]).values():
        if function["Type"] != "AWS::Serverless::Function":
            continue
        env = function["Properties"]["Environment"]["Variables"]
        assert env["CLOSELOOP_STAGE"] == stage
        assert env["CLOSELOOP_TABLE_PREFIX"] == settings.table_prefix
        assert env["CLOSELOOP_SSM_PREFIX"] == f"/closeloop/{stage}/"
        assert env["CLOSELOOP_SENDER"] == settings.sender
        assert env["CLOSELOOP_BASE_URL"] == settings.base_url
        assert env["CLOSELOOP_SES_CONFIGURATION_SET"] == f"closeloop-{stage}"
        assert env["CLOSELOOP_MAIL_BACKEND"] == "ses"
    text = json.dumps(templates[stage])
    assert "SIGNING_SECRETS" not in text and "ADMIN_TOKEN" not in text


@pytest.mark.parametrize("stage", STAGES)
def test_the_secrets_are_secure_string_parameters_generated_in_the_account(templates, stage):
    template = templates[stage]
    parameters = resources(template, "Custom::SecureStringParameter")
    assert {p["Properties"]["Name"] for p in parameters.values()} == {
        f"/closeloop/{stage}/{name}" for name in secrets.PARAMETERS
    }
    assert {p["Properties"]["Name"].rsplit("/", 1)[1]: p["Properties"]["Initial"] for p in parameters.values()} == {
        "signing-secrets": "random",
        "admin-token-hashes": "empty",
    }
    retained = stage == "prod"
    for parameter in parameters.values():
        assert parameter["Properties"]["Retain"] == ("true" if retained else "false")
        assert parameter["DeletionPolicy"] == ("Retain" if retained else "Delete")
    readers = [
        function
        for name, function in functions(template).items()
        if function["Type"] == "AWS::Serverless::Function"
        and PERMISSIONS[name.removeprefix(f"closeloop-{stage}-")].read_secrets
    ]
    assert readers
    assert all(set(f["DependsOn"]) == set(parameters) for f in readers), "no run before the secrets exist"
    [provider] = resources(template, "AWS::Lambda::Function").values()
    assert provider["Properties"]["Code"]["ZipFile"] == Path(secure_parameter.__file__).read_text()
    assert secure_parameter.EMPTY == secrets.EMPTY
    assert not resources(template, "AWS::SSM::Parameter")
    assert not resources(template, "AWS::SecretsManager::Secret")


# --- messaging ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_the_work_queue_hands_failures_to_a_dead_letter_queue(templates, stage):
    queues = {
        q["Properties"]["QueueName"]: (key, q["Properties"])
        for key, q in resources(templates[stage], "AWS::SQS::Queue").items()
    }
    dead_id, dead = queues[f"closeloop-{stage}-work-dead-letters"]
    _, work = queues[f"closeloop-{stage}-work"]
    assert work["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]}, "maxReceiveCount": 5}
    assert work["VisibilityTimeout"] >= 6 * 60
    assert work["SqsManagedSseEnabled"] and dead["SqsManagedSseEnabled"]
    assert dead["MessageRetentionPeriod"] == 14 * 86400


@pytest.mark.parametrize("stage", STAGES)
def test_ses_bounces_and_complaints_are_published_to_the_stage_topic(templates, stage):
    template = templates[stage]
    topics = {t["Properties"]["TopicName"]: key for key, t in resources(template, "AWS::SNS::Topic").items()}
    topic_id = topics[f"closeloop-{stage}-ses-events"]
    [config_set_id] = resources(template, "AWS::SES::ConfigurationSet")
    assert template["Resources"][config_set_id]["Properties"]["Name"] == f"closeloop-{stage}"
    [destination] = resources(template, "AWS::SES::ConfigurationSetEventDestination").values()
    assert destination["Properties"]["ConfigurationSetName"] == {"Ref": config_set_id}
    assert destination["Properties"]["EventDestination"]["MatchingEventTypes"] == ["bounce", "complaint"]
    assert destination["Properties"]["EventDestination"]["SnsDestination"] == {"TopicARN": {"Ref": topic_id}}
    [policy] = resources(template, "AWS::SNS::TopicPolicy").values()
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"} and statement["Action"] == "sns:Publish"
    [identity] = resources(template, "AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == STAGES[stage].domain
    assert identity["Properties"]["ConfigurationSetAttributes"] == {"ConfigurationSetName": {"Ref": config_set_id}}
    assert identity["Properties"]["MailFromAttributes"]["MailFromDomain"] == f"bounce.{STAGES[stage].domain}"
    assert {f"DkimRecord{n}" for n in (1, 2, 3)} <= set(template["Outputs"])


def test_every_scheduled_function_runs_on_its_schedule(templates):
    from app import app

    deployed = functions(templates["prod"])
    scheduled = [source for source in app.event_sources if isinstance(source, ScheduledEventConfig)]
    assert scheduled
    for source in scheduled:
        expression = source.schedule_expression
        expected = expression if isinstance(expression, str) else expression.to_string()
        events = deployed[f"closeloop-prod-{source.name}"]["Properties"]["Events"]
        assert [e["Properties"]["Schedule"] for e in events.values() if e["Type"] == "Schedule"] == [expected]
    assert deployed["closeloop-prod-dispatch_due"]["Properties"]["Events"]["DispatchDueEvent"] == {
        "Type": "Schedule",
        "Properties": {"Schedule": "rate(1 minute)"},
    }


def test_the_public_api_is_throttled(templates):
    api = templates["prod"]["Resources"]["RestAPI"]["Properties"]
    [setting] = api["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert 0 < setting["ThrottlingRateLimit"] <= setting["ThrottlingBurstLimit"]


def test_an_unknown_v1_path_reaches_the_lambda_and_every_v1_route_keeps_its_own_resource(templates):
    """API Gateway picks the most specific resource, so the greedy /v1/{proxy+} gets only what no route has
    (otherwise API Gateway itself answers 403 "Missing Authentication Token", in no v1 shape)."""
    paths = templates["prod"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for catch_all in (paths["/v1/{proxy+}"], paths["/v1"]):
        assert sorted(catch_all) == ["delete", "get", "patch", "post", "put"]
        assert {method["x-amazon-apigateway-integration"]["type"] for method in catch_all.values()} == {"aws_proxy"}
    assert {"/v1/people", "/v1/people.json", "/v1/people/{person}", "/v1/survey_responses/{response_id}"} <= set(paths)
    assert sorted(paths["/v1/people"]) == ["get", "post"]


# --- operations -----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_every_promised_alarm_exists_and_notifies_the_operators(templates, stage):
    template = templates[stage]
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    prefix = f"closeloop-{stage}-"
    app_functions = [
        name.removeprefix(prefix) for name, f in functions(template).items() if f["Type"] == "AWS::Serverless::Function"
    ]
    assert set(alarms) == {
        f"{prefix}dead-letters",
        f"{prefix}throttles",
        f"{prefix}ses-bounce-rate",
        f"{prefix}ses-complaint-rate",
        *(f"{prefix}errors-{name}" for name in app_functions),
    }
    assert alarms[f"{prefix}dead-letters"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarms[f"{prefix}dead-letters"]["Dimensions"][0]["Value"]["Fn::GetAtt"][1] == "QueueName"
    bounce, complaint = alarms[f"{prefix}ses-bounce-rate"], alarms[f"{prefix}ses-complaint-rate"]
    assert (bounce["MetricName"], bounce["Threshold"]) == ("Reputation.BounceRate", 0.05)
    assert (complaint["MetricName"], complaint["Threshold"]) == ("Reputation.ComplaintRate", 0.001)
    assert bounce["ComparisonOperator"] == complaint["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarms[f"{prefix}throttles"]["MetricName"] == "Throttles"
    for name in app_functions:
        errors = alarms[f"{prefix}errors-{name}"]
        assert errors["MetricName"] == "Errors" and errors["Dimensions"] == [
            {"Name": "FunctionName", "Value": f"{prefix}{name}"}
        ]
    topics = {t["Properties"]["TopicName"]: key for key, t in resources(template, "AWS::SNS::Topic").items()}
    operators = {"Ref": topics[f"{prefix}alarms"]}
    assert all(a["AlarmActions"] == [operators] and a["OKActions"] == [operators] for a in alarms.values())
    [subscription] = resources(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {
        "Protocol": "email",
        "TopicArn": operators,
        "Endpoint": STAGES[stage].alarm_email,
    }


def test_the_cost_model_counts_the_alarms_dashboards_and_functions_the_templates_contain(templates):
    facts = cost.app_facts()
    for stage, template in templates.items():
        assert len(resources(template, "AWS::CloudWatch::Alarm")) == cost.alarm_count(facts)
        assert len(resources(template, "AWS::CloudWatch::Dashboard")) == (1 if STAGES[stage].dashboard else 0)
        assert len(resources(template, "AWS::Serverless::Function")) == len(facts.functions)


def test_the_prod_dashboard_shows_answers_acknowledgements_scanner_clicks_queue_depth_and_errors(templates):
    [dashboard] = resources(templates["prod"], "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in (metrics.ANSWERS_RECORDED, metrics.ACKNOWLEDGEMENTS_SENT, metrics.SCANNER_CLICKS_FILTERED):
        assert f'\\"{metrics.NAMESPACE}\\",\\"{name}\\",\\"Stage\\",\\"prod\\"' in body
    assert body.count("ApproximateNumberOfMessagesVisible") == 2
    assert body.count('\\"Errors\\"') == len(
        [f for f in functions(templates["prod"]).values() if f["Type"] == "AWS::Serverless::Function"]
    )
    assert not resources(templates["dev"], "AWS::CloudWatch::Dashboard")


def test_the_templates_are_cfn_lint_clean(assembly):
    files = [str(Path(assembly.directory) / stack.template_file) for stack in assembly.stacks]
    assert len(files) == len(STAGES)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--regions", "us-east-1", "eu-west-1", "--", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- functions added later -----------------------------------------------------------------

SAMPLE_APP = """
from chalice import Chalice, Rate

app = Chalice(app_name="closeloop")


@app.route("/")
def index():
    return {}


@app.on_sqs_message(queue="QUEUE", batch_size=10)
def work_queue(event):
    return None


@app.on_sns_message(topic="closeloop-ses-events")
def ses_events(event):
    return None


@app.schedule(Rate(5, unit=Rate.MINUTES))
def acknowledge(event):
    return None
"""


class LedgerWithTtl(Model):
    """A model of the kind later issues add: its items expire."""

    TABLE = "ledger"

    class Meta:
        table_name = ""
        region = "us-east-1"

    key = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute()


def sample_project(tmp_path: Path, queue: str = "closeloop-work") -> Path:
    """A Chalice app with the handler kinds the work-queue, bounce and acknowledgement issues add."""
    (tmp_path / ".chalice").mkdir(parents=True)
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"version": "2.0", "app_name": "closeloop"}))
    (tmp_path / "app.py").write_text(SAMPLE_APP.replace("QUEUE", queue))
    return tmp_path


@pytest.fixture
def fresh_app_module():
    """Chalice packages by importing `app`: let it import the sample's, not the one already loaded."""
    saved = sys.modules.pop("app", None)
    yield
    sys.modules.pop("app", None)
    if saved is not None:
        sys.modules["app"] = saved


def synthesize_sample(tmp_path: Path, queue: str = "closeloop-work", permissions=PERMISSIONS) -> dict:
    project = sample_project(tmp_path / "project", queue)
    assembly = synthesize(
        tmp_path / "cdk.out",
        {"dev": STAGES["dev"]},
        source_dir=project,
        permissions=permissions,
        models=(*MODELS, LedgerWithTtl),
    )
    return assembly.get_stack_by_name("closeloop-dev").template


def test_queue_and_topic_handlers_are_wired_to_the_stage_queue_and_topic(tmp_path, fresh_app_module):
    environ = dict(os.environ)
    template = synthesize_sample(tmp_path)
    assert dict(os.environ) == environ  # packaging sets the stage's variables; synthesis puts them back
    deployed = functions(template)
    queue_id = next(
        k
        for k, q in resources(template, "AWS::SQS::Queue").items()
        if q["Properties"]["QueueName"] == "closeloop-dev-work"
    )
    topic_id = next(
        k
        for k, t in resources(template, "AWS::SNS::Topic").items()
        if t["Properties"]["TopicName"] == "closeloop-dev-ses-events"
    )
    [sqs_event] = deployed["closeloop-dev-work_queue"]["Properties"]["Events"].values()
    assert sqs_event["Type"] == "SQS" and sqs_event["Properties"]["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    [sns_event] = deployed["closeloop-dev-ses_events"]["Properties"]["Events"].values()
    assert sns_event["Type"] == "SNS" and sns_event["Properties"]["Topic"] == {"Ref": topic_id}
    worker = deployed["closeloop-dev-work_queue"]
    assert worker["Properties"]["Environment"]["Variables"]["CLOSELOOP_WORK_QUEUE_URL"] == {"Ref": queue_id}
    actions = {a for s in role_statements(template, worker) for a in as_list(s["Action"])}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"} <= actions
    bounces = deployed["closeloop-dev-ses_events"]
    assert not {
        a for s in role_statements(template, bounces) for a in as_list(s["Action"]) if a.startswith(("ses:", "sqs:"))
    }
    [ledger] = [
        t
        for t in resources(template, "AWS::DynamoDB::Table").values()
        if t["Properties"]["TableName"] == "closeloop-dev-ledger"
    ]
    assert ledger["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    alarms = {a["Properties"]["AlarmName"] for a in resources(template, "AWS::CloudWatch::Alarm").values()}
    assert {
        "closeloop-dev-errors-work_queue",
        "closeloop-dev-errors-ses_events",
        "closeloop-dev-errors-acknowledge",
    } <= alarms


def test_a_function_missing_from_the_permissions_fails_synthesis_naming_it(tmp_path, fresh_app_module):
    permissions = {name: grants for name, grants in PERMISSIONS.items() if name != "acknowledge"}
    with pytest.raises(PermissionsError, match=r"'acknowledge' has no entry in PERMISSIONS \(infra/permissions.py\)"):
        synthesize_sample(tmp_path, permissions=permissions)


def test_a_handler_on_a_queue_the_stack_does_not_create_fails_synthesis(tmp_path, fresh_app_module):
    with pytest.raises(PermissionsError, match=r"work_queue: event source SQS .*closeloop-other"):
        synthesize_sample(tmp_path, queue="closeloop-other")


def test_reading_the_queue_must_be_declared(tmp_path, fresh_app_module):
    permissions = {**PERMISSIONS, "work_queue": Grants(tables={"invitations": ("GetItem",)})}
    with pytest.raises(PermissionsError, match=r"PERMISSIONS\['work_queue'\].consume_work_queue is False"):
        synthesize_sample(tmp_path, permissions=permissions)


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"invitation": ("GetItem",)}, "no model has TABLE = 'invitation'"),
        ({"invitations": ("Scan",)}, "'Scan' is not one of"),
        ({"invitations": ("Query:by-email",)}, "invitations has no index 'by-email'"),
        ({"invitations": "GetItem"}, "must be a non-empty tuple"),
    ],
)
def test_a_permissions_entry_naming_an_unknown_table_action_or_index_is_refused(tables, message):
    with pytest.raises(PermissionsError, match=message):
        table_access("f", Grants(tables=tables), table_specs())


def test_the_declared_entries_name_tables_and_indexes_the_models_have():
    specs = table_specs()
    for name, grants in PERMISSIONS.items():
        assert table_access(name, grants, specs), name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sender": "Closeloop <feedback@elsewhere.example>"}, "must be an address at"),
        ({"base_url": "http://feedback.example.com"}, "must start with https://"),
        ({"log_retention_days": 10}, "log_retention_days must be one of"),
        ({"table_prefix": "Closeloop_"}, "table_prefix"),
    ],
)
def test_a_stage_parameter_aws_would_reject_stops_synthesis(change, message):
    values = {**STAGES["prod"].__dict__, **change}
    with pytest.raises(ValueError, match=message):
        Stage(**values).check()
