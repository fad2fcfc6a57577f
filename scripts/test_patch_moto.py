"""Checks scripts/patch_moto.py against moto itself: .venv/bin/python scripts/test_patch_moto.py

Applies the patch (and checks a second run changes nothing), starts moto's server in this
process on a free loopback port and talks to it with boto3, as our tests talk to moto:
transactions apply or roll back whole (items, GSI, stream), their time does not grow with the
table, and it prints moto's memory with 100,000 items. Takes about a minute.
"""

import logging
import pathlib
import socket
import subprocess
import sys
import time
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parent / "patch_moto.py"


def patch():
    run = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, check=True)
    return run.stdout + run.stderr


FIRST_RUN = patch()  # before moto is imported, so that this process runs the patched moto
import boto3  # noqa: E402
import moto.dynamodb.models as models  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

S = lambda value: {"S": value}  # noqa: E731


def contact(i, notes=""):
    item = {"pk": S(f"c#{i:06d}"), "sk": S("profile"), "gsi1pk": S(f"g#{i % 10}"), "gsi1sk": S(f"{i:06d}")}
    if notes:
        item["notes"] = S(notes)
    return item


def key(i):
    return {"pk": S(f"c#{i:06d}"), "sk": S("profile")}


def rss_mb():
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        pass
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


class PatchedMoto(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        cls.server.start()
        config = dict(
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        cls.db = boto3.client("dynamodb", **config)
        cls.streams = boto3.client("dynamodbstreams", **config)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def table(self, name, stream=True):
        self.db.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            if stream
            else {"StreamEnabled": False},
        )
        return name

    def load(self, table, numbers, notes=""):
        numbers = list(numbers)
        for start in range(0, len(numbers), 25):
            requests = [{"PutRequest": {"Item": contact(i, notes)}} for i in numbers[start : start + 25]]
            left = self.db.batch_write_item(RequestItems={table: requests})["UnprocessedItems"]
            self.assertFalse(left)

    def scan(self, table):
        items, page = [], {}
        while True:
            answer = self.db.scan(TableName=table, **page)
            items += answer["Items"]
            if "LastEvaluatedKey" not in answer:
                return self.scan_of(*items)
            page = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}

    def scan_of(self, *items):
        """Items in a fixed order, to compare with a scan."""
        return sorted(items, key=lambda item: repr(sorted(item.items())))

    def by_gsi(self, table, group):
        return self.db.query(
            TableName=table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues={":g": S(group)},
        )["Items"]

    def stream_records(self, table):
        arn = self.db.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return self.streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]

    def state(self, table):
        """Everything a client can see of the table."""
        return (
            self.scan(table),
            [self.by_gsi(table, f"g#{group}") for group in range(10)],
            [(r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in self.stream_records(table)],
            self.db.describe_table(TableName=table)["Table"]["ItemCount"],
        )

    def test_0_patch_is_idempotent_and_active(self):
        path = pathlib.Path(models.__file__)
        before = path.read_bytes()
        self.assertEqual(patch(), "")
        self.assertEqual(path.read_bytes(), before)
        self.assertTrue(hasattr(models, "_journaled"), f"the journal is not applied: {FIRST_RUN}")

    def test_1_transaction_applies_all(self):
        table = self.table("applies")
        self.load(table, range(4))
        records = len(self.stream_records(table))
        self.db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": contact(10), "ConditionExpression": "attribute_not_exists(pk)"}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key(1),
                        "UpdateExpression": "SET gsi1pk = :g",
                        "ExpressionAttributeValues": {":g": S("g#moved")},
                    }
                },
                {"Delete": {"TableName": table, "Key": key(2)}},
                {"ConditionCheck": {"TableName": table, "Key": key(3), "ConditionExpression": "attribute_exists(pk)"}},
            ]
        )
        after = self.scan_of(contact(0), dict(contact(1), gsi1pk=S("g#moved")), contact(3), contact(10))
        self.assertEqual(self.scan(table), after)
        self.assertEqual([item["pk"] for item in self.by_gsi(table, "g#moved")], [S("c#000001")])
        self.assertEqual(self.by_gsi(table, "g#2"), [])
        self.assertEqual(
            [r["eventName"] for r in self.stream_records(table)[records:]], ["INSERT", "MODIFY", "REMOVE"]
        )

    def test_2_failed_transaction_changes_nothing(self):
        table = self.table("rolls-back")
        self.db.create_table(  # a second table, with a hash key only
            TableName="counters",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        self.db.put_item(TableName="counters", Item={"pk": S("contacts"), "n": {"N": "5"}})
        self.load(table, range(6), notes="before")
        before, counters = self.state(table), self.scan("counters")
        condition_fails = {"TableName": table, "Key": key(4), "ConditionExpression": "attribute_not_exists(pk)"}
        items = [
            {"Put": {"TableName": table, "Item": contact(10), "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": table, "Item": dict(contact(20), sk=S("other"))}},  # a new partition
            {"Put": {"TableName": table, "Item": contact(0, notes="replaced")}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key(1),
                    "UpdateExpression": "SET gsi1pk = :g, notes = :n",
                    "ExpressionAttributeValues": {":g": S("g#moved"), ":n": S("updated")},
                }
            },
            {"Delete": {"TableName": table, "Key": key(2)}},
            {"ConditionCheck": condition_fails},
            {"Delete": {"TableName": table, "Key": key(3)}},  # after the failure: moto still runs it
            {"Put": {"TableName": "counters", "Item": {"pk": S("new")}}},
            {
                "Update": {
                    "TableName": "counters",
                    "Key": {"pk": S("contacts")},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
        with self.assertRaises(ClientError) as caught:
            self.db.transact_write_items(TransactItems=items)
        error = caught.exception.response
        self.assertEqual(error["Error"]["Code"], "TransactionCanceledException")
        codes = [reason["Code"] for reason in error["CancellationReasons"]]
        self.assertEqual(codes, ["None"] * 5 + ["ConditionalCheckFailed"] + ["None"] * 3)
        self.assertEqual(self.state(table), before)
        self.assertEqual(self.by_gsi(table, "g#moved"), [])
        self.assertEqual(self.scan("counters"), counters)

    def test_3_duplicate_item_rejected(self):
        table = self.table("duplicates")
        self.load(table, range(3))
        before = self.state(table)
        with self.assertRaises(ClientError) as caught:
            self.db.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": contact(10)}},
                    {"Delete": {"TableName": table, "Key": key(0)}},
                    {"Update": {"TableName": table, "Key": key(10), "UpdateExpression": "SET a = :a",
                                "ExpressionAttributeValues": {":a": S("a")}}},
                ]
            )
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], "ValidationException")
        self.assertEqual(error["Message"], "Transaction request cannot include multiple operations on one item")
        self.assertEqual(self.state(table), before)

    def put_new(self, table, numbers):
        start = time.perf_counter()
        for i in numbers:
            self.db.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": contact(i), "ConditionExpression": "attribute_not_exists(pk)"}}
                ]
            )
        return (time.perf_counter() - start) / len(numbers)

    def test_4_transaction_time_does_not_grow_with_table(self):
        table = self.table("timing")
        self.load(table, range(1_000))
        small = self.put_new(table, range(100_000, 100_200))
        self.load(table, range(1_000, 20_000))
        big = self.put_new(table, range(200_000, 200_200))
        print(f"\n  one transaction: {small * 1000:.2f} ms at 1,000 items, {big * 1000:.2f} ms at 20,000 items")
        self.assertLess(big / small, 3)

    def test_5_memory_with_100k_items(self):
        table = self.table("memory", stream=False)  # like our template's table
        empty = rss_mb()
        self.load(table, range(100_000), notes="n" * 900)  # about 1 KB an item
        loaded = rss_mb()
        seconds = self.put_new(table, range(300_000, 300_200))
        for i in range(100):  # and some that roll back
            with self.assertRaises(ClientError):
                self.db.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": table, "Item": contact(400_000 + i)}},
                        {"ConditionCheck": {"TableName": table, "Key": key(i), "ConditionExpression": "attribute_not_exists(pk)"}},
                    ]
                )
        print(
            f"\n  moto's RSS (in this process): {empty:.0f} MB before loading, {loaded:.0f} MB with "
            f"100,000 items of ~1 KB, {rss_mb():.0f} MB after 200 transactions "
            f"({seconds * 1000:.2f} ms each) and failed ones"
        )
        self.assertEqual(self.db.describe_table(TableName=table)["Table"]["ItemCount"], 100_200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
