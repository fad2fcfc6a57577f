"""Checks scripts/check-iam.py's policy evaluation, and that the emulator's request log feeds it:
.venv/bin/python scripts/test_check_iam.py
"""

import importlib.util
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

SCRIPTS = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("check_iam", SCRIPTS / "check-iam.py")
check_iam = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_iam)

TEMPLATE = """
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
      GlobalSecondaryIndexes:
        - IndexName: gsi2
          KeySchema: [{AttributeName: gsi2pk, KeyType: HASH}, {AttributeName: gsi2sk, KeyType: RANGE}]
  HooksFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - SQSSendMessagePolicy: {QueueName: q}
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ['WS#*#BOT#*']
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Query, dynamodb:PutItem]
              Resource: [!GetAtt Table.Arn, !Sub "${Table.Arn}/index/gsi2"]
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ['WS#*']
            - Effect: Allow
              Action: [dynamodb:Query]
              Resource: !Sub ${Table.Arn}/index/gsi2
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ['OPENCONV#*']
  CrudFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Table}
"""


def template():
    return check_iam.Template(yaml.load(TEMPLATE, Loader=check_iam.CfnLoader))


def get(function, pk):
    return {"access_key_id": function, "action": "GetItem", "request": {"TableName": "t", "Key": {"pk": {"S": pk}, "sk": {"S": "x"}}}}


def query(function, pk, index=None):
    request = {
        "TableName": "t",
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
        "ExpressionAttributeNames": {"#pk": "gsi2pk" if index else "pk", "#sk": "sk"},
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":sk": {"S": "a"}},
    }
    if index:
        request["IndexName"] = index
    return {"access_key_id": function, "action": "Query", "request": request}


def denied(lines):
    return sorted(check_iam.check(template(), lines)[1])


class Evaluation(unittest.TestCase):
    def test_a_key_outside_the_patterns_is_denied_and_one_inside_allowed(self):
        self.assertEqual(
            denied([get("HooksFunction", "APIKEY#abc"), get("HooksFunction", "WS#w1#BOT#b1")]),
            [("HooksFunction", "GetItem", "arn:aws:dynamodb:*:*:table/Table", "APIKEY#*")],
        )

    def test_an_index_query_is_held_to_the_index_partition_key(self):
        lines = [
            query("WorkerFunction", "OPENCONV#3", index="gsi2"),  # the index statement
            query("WorkerFunction", "WS#w1#CH#telegram", index="gsi2"),
            query("WorkerFunction", "OPENCONV#3"),  # on the table: not granted
        ]
        self.assertEqual(denied(lines), [("WorkerFunction", "Query", "arn:aws:dynamodb:*:*:table/Table", "OPENCONV#*")])

    def test_an_action_not_granted_is_denied(self):
        put = {"access_key_id": "HooksFunction", "action": "PutItem", "request": {"Item": {"pk": {"S": "WS#w#BOT#b"}}}}
        self.assertEqual(len(denied([put])), 1)

    def test_transactions_and_batches_are_checked_item_by_item(self):
        transaction = {
            "access_key_id": "WorkerFunction",
            "action": "TransactWriteItems",
            "request": {
                "TransactItems": [
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "WS#w#C#1"}}}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "APIKEY#k"}}}},
                ]
            },
        }
        self.assertEqual(denied([transaction]), [("WorkerFunction", "PutItem", "arn:aws:dynamodb:*:*:table/Table", "APIKEY#*")])

    def test_sam_crud_template_allows_any_key_and_requests_of_others_and_meter_reads_are_ignored(self):
        meter_read = {**get("HooksFunction", "APIKEY#abc"), "meter_read": True}
        self.assertEqual(denied([get("CrudFunction", "APIKEY#abc"), get("local", "APIKEY#abc"), meter_read]), [])

    def test_unused_statements_and_patterns_are_listed(self):
        checked, _, unused = check_iam.check(template(), [query("WorkerFunction", "WS#w#C#1")])
        self.assertEqual(checked["WorkerFunction"], 1)
        self.assertEqual(
            [(whole, idle) for _, whole, idle in unused["WorkerFunction"]],
            [(False, ["dynamodb:GetItem", "dynamodb:PutItem"]), (True, ["OPENCONV#*", "dynamodb:Query"])],
        )
        self.assertEqual(unused["HooksFunction"][0][1:], (True, ["WS#*#BOT#*", "dynamodb:GetItem"]))


class TheTemplate(unittest.TestCase):
    def test_api_keys_are_the_api_and_dashboard_s_and_the_sweep_shards_the_jobs_worker_s(self):
        with open(SCRIPTS.parent / "infra" / "template.yaml", encoding="utf-8") as f:
            real = check_iam.Template(yaml.load(f, Loader=check_iam.CfnLoader))
        lines = [
            get("ContactsApiFunction", "APIKEY#abc"),
            get("DashboardFunction", "APIKEY#abc"),
            get("WebhooksFunction", "APIKEY#abc"),
            get("CaptureWorkerFunction", "APIKEY#abc"),
            query("JobsWorkerFunction", "OPENCONV#3", index="gsi2"),
            query("CaptureWorkerFunction", "OPENCONV#3", index="gsi2"),
            query("JobsWorkerFunction", "OPENCONV#3"),
        ]
        denials = sorted((function, action, resource.rsplit(":", 1)[1]) for function, action, resource, _ in check_iam.check(real, lines)[1])
        self.assertEqual(
            denials,
            [
                ("CaptureWorkerFunction", "GetItem", "table/ContactsTable"),
                ("CaptureWorkerFunction", "Query", "table/ContactsTable/index/gsi2"),
                ("JobsWorkerFunction", "Query", "table/ContactsTable"),
                ("WebhooksFunction", "GetItem", "table/ContactsTable"),
            ],
        )


class Recording(unittest.TestCase):
    def test_the_emulator_logs_each_request_with_its_signer_and_items_cut_to_their_keys(self):
        import boto3

        with tempfile.TemporaryDirectory() as tmp:
            log = pathlib.Path(tmp) / "requests.jsonl"
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            server = subprocess.Popen(
                [sys.executable, SCRIPTS / "moto_server.py", "-H", "127.0.0.1", "-p", str(port)],
                env={**os.environ, "EMULATOR_REQUEST_LOG": str(log)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                for _ in range(300):
                    try:
                        socket.create_connection(("127.0.0.1", port), 0.2).close()
                        break
                    except OSError:
                        time.sleep(0.1)
                client = lambda key: boto3.client(  # noqa: E731
                    "dynamodb",
                    endpoint_url=f"http://127.0.0.1:{port}",
                    region_name="us-east-1",
                    aws_access_key_id=key,
                    aws_secret_access_key="local",
                )
                client("local").create_table(
                    TableName="t",
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                )
                worker = client("WorkerFunction")
                worker.put_item(TableName="t", Item={"pk": {"S": "WS#w#C#1"}, "name": {"S": "Ada"}})
                worker.meta.events.register(
                    "before-sign.dynamodb.GetItem", lambda request, **_: request.headers.add_header("x-emulator-meter-read", "1")
                )
                worker.get_item(TableName="t", Key={"pk": {"S": "APIKEY#k"}})
            finally:
                server.kill()
                server.wait()
            lines = [json.loads(line) for line in log.read_text().splitlines()]
        self.assertEqual(
            [(l["access_key_id"], l["action"], l.get("meter_read", False)) for l in lines],
            [("local", "CreateTable", False), ("WorkerFunction", "PutItem", False), ("WorkerFunction", "GetItem", True)],
        )
        self.assertEqual(lines[1]["request"]["Item"], {"pk": {"S": "WS#w#C#1"}})
        self.assertEqual(denied(lines), [])


if __name__ == "__main__":
    unittest.main()
