"""Checks scripts/patch_moto.py against moto itself: .venv/bin/python scripts/test_patch_moto.py

Applies the patch (and checks a second run changes nothing), starts moto's server in this
process on a free loopback port and talks to it with boto3, as our tests talk to moto:
transactions apply or roll back whole (items, GSI, stream), their time does not grow with the
table, and it prints moto's memory with 100,000 items. Queries: after each of a random sequence
of writes, every kind of Query gives what moto's own Table.query gives (SEED=n to replay a
sequence), and a query's time does not grow with the table. Stream records read the same as
through moto's own serializer. Takes a minute or two.
"""

import collections
import contextlib
import json
import logging
import os
import pathlib
import random
import socket
import statistics
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
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto.dynamodb.responses import DynamoHandler  # noqa: E402
import moto.sqs.models as models_sqs  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

S = lambda value: {"S": value}  # noqa: E731
ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's default account, the clients' region


def backend():
    return models.dynamodb_backends[ACCOUNT][REGION]


@contextlib.contextmanager
def moto_query():
    """moto's own Query, as it was before the patch, while the block runs: Table.query,
    Item.project and the handler's answer through moto's serializer."""
    patched = models.Table.query, models.Item.project, DynamoHandler.query
    models.Table.query, models.Item.project = models._moto_query, models._moto_project
    DynamoHandler.query = models._moto_query_response
    try:
        yield
    finally:
        models.Table.query, models.Item.project, DynamoHandler.query = patched


def handle_query(body):
    """A Query request handled by moto's own request handler, in this process, without HTTP:
    what the server would answer (the items as JSON), or the error it would raise."""
    handler = DynamoHandler()
    handler.body, handler.current_account, handler.region = body, ACCOUNT, REGION
    try:
        answer = handler.query()
    except Exception as error:
        return ("error", type(error).__name__, str(error))
    # The patch answers JSON; moto's own path, its result as the serializer would read it.
    return json.loads(answer if isinstance(answer, str) else json.dumps(answer.result, default=models._wire_bytes))


# The differential test's tables and values: small domains, so that partitions hold several
# items, index sort keys repeat (moto then orders by the table's key) and numbers are equal
# under different spellings (1 and 1.0).
PKS = [f"p{i}" for i in range(4)]
SKS = [f"s{i:02d}" for i in range(10)]
HASH_PKS = [f"h{i:02d}" for i in range(24)]
GROUPS = ["g0", "g1", "g2"]
GSKS = ["a", "ab", "abc", "b", "ba", "c", "10", "9"]
TAGS = ["t0", "t1"]
NUMS = ["-3", "0", "1", "1.0", "2", "2.50", "10"]
NOTES = ["x", "yy"]
TARGETS = [  # table, index, hash key and its values, range key and its values
    ("differential", None, "pk", PKS, "sk", SKS),
    ("differential", "by-group", "gpk", GROUPS, "gsk", GSKS),  # ALL
    ("differential", "by-tag", "tag", TAGS, "num", NUMS),  # KEYS_ONLY
    ("differential", "by-group-num", "gpk", GROUPS, "num", NUMS),  # INCLUDE note
    ("differential", "by-pk-gsk", "pk", PKS, "gsk", GSKS),  # local, KEYS_ONLY
    ("differential-hash", None, "pk", HASH_PKS, None, None),
    ("differential-hash", "by-group", "gpk", GROUPS, None, None),  # KEYS_ONLY, no range key
    ("differential-hash", "by-tag-num", "tag", TAGS, "num", NUMS),  # INCLUDE note
]
OPERATORS = [None, "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]


def typed(attribute, value):
    return {"N": value} if attribute == "num" else S(value)


def key_schema(hash_key, range_key=None):
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    return schema + ([{"AttributeName": range_key, "KeyType": "RANGE"}] if range_key else [])


def index(name, hash_key, range_key, projection, *included):
    projection = {"ProjectionType": projection}
    if included:
        projection["NonKeyAttributes"] = list(included)
    return {"IndexName": name, "KeySchema": key_schema(hash_key, range_key), "Projection": projection}


def random_key(rng, table):
    if table == "differential":
        return {"pk": S(rng.choice(PKS)), "sk": S(rng.choice(SKS))}
    return {"pk": S(rng.choice(HASH_PKS))}


def random_item(rng, table):
    item = random_key(rng, table)
    for attribute, values, share in (
        ("gpk", GROUPS, 0.8), ("gsk", GSKS, 0.8), ("tag", TAGS, 0.6), ("num", NUMS, 0.7), ("note", NOTES, 0.5)
    ):
        if rng.random() < share:
            item[attribute] = typed(attribute, rng.choice(values))
    if rng.random() < 0.03:  # moto takes index keys of another type, even a list (not hashable)
        item["gpk"] = rng.choice([{"N": "1"}, {"L": [S("g0")]}])
    return item


def random_update(rng):
    """(UpdateExpression, ExpressionAttributeValues): moves items between index partitions,
    out of sparse indexes and back in."""
    g, s, t = S(rng.choice(GROUPS)), S(rng.choice(GSKS)), S(rng.choice(TAGS))
    n, x = {"N": rng.choice(NUMS)}, S(rng.choice(NOTES))
    return rng.choice([
        ("SET gpk = :g", {":g": g}),
        ("REMOVE gpk", {}),
        ("SET gsk = :s, tag = :t", {":s": s, ":t": t}),
        ("REMOVE tag, num", {}),
        ("SET num = :n", {":n": n}),
        ("ADD num :n", {":n": n}),
        ("SET note = :x REMOVE gsk", {":x": x}),
        ("SET gpk = :g, gsk = :s, num = :n", {":g": g, ":s": s, ":n": n}),
    ])


def random_query(rng, target, operator=None, forward=None, limit=None, plain=False):
    """A Query request on the target; what is not given is drawn (plain: no filter, no projection)."""
    table, index_name, hash_key, hash_values, range_key, range_values = target
    names = {"#h": hash_key}
    values = {":h": S(rng.choice(hash_values + ["absent"]))}
    condition = "#h = :h"
    if operator is None and range_key and not plain:
        operator = rng.choice(OPERATORS)
    if operator == "begins_with" and range_key == "num":
        operator = "BETWEEN"  # begins_with takes a string or binary
    if operator and range_key:
        names["#r"] = range_key
        low, high = (typed(range_key, rng.choice(range_values)) for _ in range(2))
        if operator == "BETWEEN":
            condition += " AND #r BETWEEN :a AND :b"
            values[":a"], values[":b"] = low, high
        elif operator == "begins_with":
            condition += " AND begins_with(#r, :a)"
            values[":a"] = S(rng.choice(["a", "ab", "b", "1", "z"]))
        else:
            condition += f" AND #r {operator} :a"
            values[":a"] = low
    body = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ScanIndexForward": rng.random() < 0.5 if forward is None else forward,
    }
    if index_name:
        body["IndexName"] = index_name
    if limit or (limit is None and rng.random() < 0.6):
        body["Limit"] = limit or rng.choice([1, 2, 3, 5])
    if not plain:
        if rng.random() < 0.1:  # a start key of the client's choosing, maybe of another partition
            start = random_key(rng, table)
            start[hash_key] = typed(hash_key, rng.choice(hash_values))
            if range_key:
                start[range_key] = typed(range_key, rng.choice(range_values))
            body["ExclusiveStartKey"] = start
        draw = rng.random()
        if draw < 0.15:
            body["FilterExpression"] = "attribute_exists(note)"
        elif draw < 0.3:
            body["FilterExpression"] = "#f > :f OR attribute_not_exists(tag)"
            names["#f"], values[":f"] = "num", {"N": "1"}
        draw = rng.random()
        if draw < 0.1:
            body["Select"] = "COUNT"
        elif draw < 0.3:
            body["ProjectionExpression"] = rng.choice(["pk, note", "#h, num, gsk"])
    body["ExpressionAttributeNames"], body["ExpressionAttributeValues"] = names, values
    return body


def pages(run, body):
    """The answer to each page of the query, following LastEvaluatedKey."""
    answers = []
    while len(answers) < 60:
        answer = run(body)
        answers.append(answer)
        if not isinstance(answer, dict) or "LastEvaluatedKey" not in answer:
            break
        body = dict(body, ExclusiveStartKey=answer["LastEvaluatedKey"])
    return answers


def index_content(index):
    """What an _AttributeIndex holds, comparable with another's (items by identity)."""
    entries = lambda entries: {key: (order, id(item)) for key, (order, item) in entries.items()}  # noqa: E731
    return (
        {value: entries(keyed) for value, keyed in index.by_value.items()},
        entries(index.unhashable),
        dict(index.filed_under),
    )


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


# Timings and memory are measurements, not tests: `make bench` runs them (EMULATOR_BENCH=1).
MEASUREMENT = unittest.skipUnless(os.environ.get("EMULATOR_BENCH"), "a measurement: make bench runs it")


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
        cls.sqs = boto3.client("sqs", **config)
        # no retries: a 500 from moto is an answer to compare, not something to try again
        cls.db_once = boto3.client("dynamodb", **config, config=Config(retries={"max_attempts": 1, "mode": "standard"}))

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

    @MEASUREMENT
    def test_4_transaction_time_does_not_grow_with_table(self):
        table = self.table("timing")
        self.load(table, range(1_000))
        small = self.put_new(table, range(100_000, 100_200))
        self.load(table, range(1_000, 20_000))
        big = self.put_new(table, range(200_000, 200_200))
        print(f"\n  one transaction: {small * 1000:.2f} ms at 1,000 items, {big * 1000:.2f} ms at 20,000 items")
        self.assertLess(big / small, 3)

    @MEASUREMENT
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
        self.db.delete_table(TableName=table)  # frees the memory (and the garbage collector's work)

    # Queries: the partition index

    def http_query(self, body):
        try:
            answer = self.db_once.query(**body)
        except ClientError as error:
            return ("error", error.response["Error"]["Code"], error.response["Error"]["Message"])
        return {k: answer[k] for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey") if k in answer}

    def assert_same_answers(self, body, run=handle_query):
        """Every page of the query, with the patch and with moto's own Table.query."""
        patched = pages(run, body)
        with moto_query():
            original = pages(run, body)
        self.assertEqual(patched, original, f"{body} (SEED={self.seed})")
        return patched

    def assert_indexes_match_items(self):
        """Every map the patch keeps is what building it afresh from the items gives."""
        for table in backend().tables.values():
            for attribute, index in dict(models._partition_indexes.get(table) or {}).items():
                fresh = models._AttributeIndex(table, attribute)
                self.assertEqual(index_content(index), index_content(fresh), f"{table.name}.{attribute} (SEED={self.seed})")

    @contextlib.contextmanager
    def counting_partitions(self):
        """Counts the queries that took the partition's items, moto's path, or failed to decide."""
        counts, partition, page = collections.Counter(), models._partition, models._page_of_index

        def counting(table, arguments):
            try:
                items = partition(table, arguments)
            except Exception:
                counts["error"] += 1
                raise
            counts["moto's path" if items is None else "partition"] += 1
            return items

        def counting_pages(*args):
            items = page(*args)
            counts.update(["(of which a bisected page)"] if items is not None else [])
            return items

        models._partition, models._page_of_index = counting, counting_pages
        try:
            yield counts
        finally:
            models._partition, models._page_of_index = partition, page

    def random_write(self, rng, outcomes):
        kind = rng.choices(
            ["put", "update", "legacy update", "delete", "batch", "transaction"], weights=[25, 30, 5, 10, 12, 18]
        )[0]
        table = rng.choice(["differential"] * 3 + ["differential-hash"])
        try:
            if kind == "put":
                condition = {"ConditionExpression": "attribute_not_exists(pk)"} if rng.random() < 0.3 else {}
                self.db_once.put_item(TableName=table, Item=random_item(rng, table), **condition)
            elif kind == "update":
                expression, values = random_update(rng)
                request = dict(TableName=table, Key=random_key(rng, table), UpdateExpression=expression)
                if values:
                    request["ExpressionAttributeValues"] = values
                if rng.random() < 0.3:
                    request["ConditionExpression"] = rng.choice(["attribute_exists(pk)", "attribute_not_exists(gpk)"])
                self.db_once.update_item(**request)
            elif kind == "legacy update":  # AttributeUpdates: moto's other update path
                action = rng.choice([{"Action": "PUT", "Value": S(rng.choice(GROUPS))}, {"Action": "DELETE"}])
                self.db_once.update_item(TableName=table, Key=random_key(rng, table), AttributeUpdates={"gpk": action})
            elif kind == "delete":
                condition = {"ConditionExpression": "attribute_exists(gpk)"} if rng.random() < 0.3 else {}
                self.db_once.delete_item(TableName=table, Key=random_key(rng, table), **condition)
            elif kind == "batch":
                keys = {repr(key): key for key in (random_key(rng, table) for _ in range(rng.randint(2, 8)))}
                requests = [
                    {"PutRequest": {"Item": dict(random_item(rng, table), **key)}}
                    if rng.random() < 0.6
                    else {"DeleteRequest": {"Key": key}}
                    for key in keys.values()
                ]
                self.db_once.batch_write_item(RequestItems={table: requests})
            else:
                self.db_once.transact_write_items(TransactItems=self.random_transaction(rng))
            outcomes[kind, "ok"] += 1
        except ClientError as error:
            outcomes[kind, error.response["Error"]["Code"]] += 1

    def random_transaction(self, rng):
        """One to four operations on distinct items of both tables; a condition fails often."""
        targets = {}
        for _ in range(rng.randint(1, 4)):
            table = rng.choice(["differential", "differential", "differential-hash"])
            key = random_key(rng, table)
            targets[table, repr(key)] = table, key
        operations = []
        for table, key in targets.values():
            kind = rng.choice(["Put", "Update", "Delete", "ConditionCheck"])
            if kind == "Put":
                operation = {"TableName": table, "Item": dict(random_item(rng, table), **key)}
                if rng.random() < 0.3:
                    operation["ConditionExpression"] = "attribute_not_exists(pk)"
            elif kind == "Update":
                expression, values = random_update(rng)
                operation = {"TableName": table, "Key": key, "UpdateExpression": expression}
                if values:
                    operation["ExpressionAttributeValues"] = values
            elif kind == "Delete":
                operation = {"TableName": table, "Key": key}
            else:
                condition = rng.choice(["attribute_exists(pk)", "attribute_not_exists(pk)"])
                operation = {"TableName": table, "Key": key, "ConditionExpression": condition}
            operations.append({kind: operation})
        return operations

    def sweep(self, rng):
        """Every target, operator and direction, paged two by two and whole, without filter."""
        for target in TARGETS:
            for operator in OPERATORS if target[4] else [None]:
                for forward in (True, False):
                    for limit in (2, 0):
                        self.assert_same_answers(random_query(rng, target, operator, forward, limit, plain=True))

    def test_6_query_answers_as_moto(self):
        self.seed = int(os.environ.get("SEED") or random.randrange(1, 10**9))
        rng = random.Random(self.seed)
        attributes = [{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gpk", "gsk", "tag")]
        attributes.append({"AttributeName": "num", "AttributeType": "N"})
        self.db.create_table(
            TableName="differential",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=attributes,
            KeySchema=key_schema("pk", "sk"),
            GlobalSecondaryIndexes=[
                index("by-group", "gpk", "gsk", "ALL"),
                index("by-tag", "tag", "num", "KEYS_ONLY"),
                index("by-group-num", "gpk", "num", "INCLUDE", "note"),
            ],
            LocalSecondaryIndexes=[index("by-pk-gsk", "pk", "gsk", "KEYS_ONLY")],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.db.create_table(
            TableName="differential-hash",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[a for a in attributes if a["AttributeName"] in ("pk", "gpk", "tag", "num")],
            KeySchema=key_schema("pk"),
            GlobalSecondaryIndexes=[
                index("by-group", "gpk", None, "KEYS_ONLY"),
                index("by-tag-num", "tag", "num", "INCLUDE", "note"),
            ],
        )
        outcomes = collections.Counter()
        with self.counting_partitions() as counts:
            self.sweep(rng)  # on empty tables: builds the maps, which the writes then keep up
            for step in range(150):
                self.random_write(rng, outcomes)
                self.assert_indexes_match_items()
                for target in TARGETS:
                    for _ in range(2):
                        self.assert_same_answers(random_query(rng, target))
                self.assert_same_answers(random_query(rng, rng.choice(TARGETS)), run=self.http_query)
                if step % 50 == 49:
                    self.sweep(rng)
        items = sum(len(backend().tables[name]) for name in ("differential", "differential-hash"))
        print(f"\n  SEED={self.seed}: {counts['partition']} queries compared "
              f"({counts['(of which a bisected page)']} bisected pages), {items} items at the end; writes: "
              + ", ".join(f"{kind} {outcome} {n}" for (kind, outcome), n in sorted(outcomes.items())))
        self.assertEqual(counts["moto's path"] + counts["error"], 0, counts)  # moto's path never needed
        self.assertGreater(counts["(of which a bisected page)"], 100, counts)
        self.assertTrue(outcomes["transaction", "ok"] and outcomes["transaction", "TransactionCanceledException"])
        self.assertTrue(outcomes["put", "ConditionalCheckFailedException"] and outcomes["update", "ok"])

    def test_7_index_follows_tables(self):
        """Tables deleted and created again, indexes added, PartiQL, backups, bad requests."""
        self.seed = "none"
        group = lambda g, table="lifecycle", index_name="gsi1": {  # noqa: E731
            "TableName": table, "IndexName": index_name, "KeyConditionExpression": "gsi1pk = :g",
            "ExpressionAttributeValues": {":g": S(g)},
        }
        names = lambda answer: [item["pk"]["S"] for item in answer[0]["Items"]]  # noqa: E731
        self.table("lifecycle", stream=False)
        self.load("lifecycle", range(30))
        self.assertEqual(len(names(self.assert_same_answers(group("g#3")))), 3)
        self.db.delete_table(TableName="lifecycle")
        self.table("lifecycle", stream=False)
        self.load("lifecycle", range(100, 104))
        self.assertEqual(names(self.assert_same_answers(group("g#3"))), ["c#000103"])

        # a request moto refuses (no sort key): the maps are forgotten, then built again
        with self.assertRaises(ClientError):
            self.db.put_item(TableName="lifecycle", Item={"pk": S("c#x"), "gsi1pk": S("g#3")})
        self.db.put_item(TableName="lifecycle", Item=dict(contact(113), gsi1pk=S("g#3")))
        self.assertEqual(names(self.assert_same_answers(group("g#3"))), ["c#000103", "c#000113"])

        # an index added to the table, on an attribute no map has yet
        self.db.update_table(
            TableName="lifecycle",
            AttributeDefinitions=[  # all of them: moto replaces the table's list with this one
                {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk", "notes")
            ],
            GlobalSecondaryIndexUpdates=[{"Create": index("by-notes", "notes", None, "KEYS_ONLY")}],
        )
        self.db.put_item(TableName="lifecycle", Item=contact(120, notes="n"))
        by_notes = {"TableName": "lifecycle", "IndexName": "by-notes", "KeyConditionExpression": "notes = :n",
                    "ExpressionAttributeValues": {":n": S("n")}}
        self.assertEqual(names(self.assert_same_answers(by_notes)), ["c#000120"])

        # PartiQL writes
        for statement in (
            """INSERT INTO "lifecycle" VALUE {'pk': 'c#q', 'sk': 'profile', 'gsi1pk': 'g#3', 'gsi1sk': '0'}""",
            """UPDATE "lifecycle" SET gsi1pk = 'g#4' WHERE pk = 'c#000103' AND sk = 'profile'""",
            """DELETE FROM "lifecycle" WHERE pk = 'c#000113' AND sk = 'profile'""",
        ):
            self.db.execute_statement(Statement=statement)
        self.assertEqual(names(self.assert_same_answers(group("g#3"))), ["c#q"])
        self.assertEqual(names(self.assert_same_answers(group("g#4"))), ["c#000103"])

        # a table restored from a backup: moto fills its items after creating it
        arn = self.db.create_backup(TableName="lifecycle", BackupName="lifecycle-backup")["BackupDetails"]["BackupArn"]
        self.db.restore_table_from_backup(TargetTableName="lifecycle-restored", BackupArn=arn)
        self.assertEqual(names(self.assert_same_answers(group("g#4", "lifecycle-restored"))), ["c#000103"])
        self.assertEqual(names(self.assert_same_answers(group("g#4"), run=self.http_query)), ["c#000103"])
        self.assert_indexes_match_items()

    @MEASUREMENT
    def test_8_query_time_does_not_grow_with_table(self):
        table = self.table("query-timing", stream=False)
        store = backend()
        for j in range(5):  # a partition of gsi1 that stays at 5 items
            store.put_item(table, {"pk": S(f"small#{j}"), "sk": S("profile"), "gsi1pk": S("g#small"), "gsi1sk": S(f"{j}")})

        def load(numbers):  # in this process: the query is what is measured, over HTTP
            for i in numbers:
                store.put_item(table, contact(i))

        queries = {
            "GSI": dict(TableName=table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                        ExpressionAttributeValues={":g": S("g#small")}),
            "table": dict(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": S("c#000500")}),
            # a page of 25 in the middle of a partition of 100 items, then of 5,000
            "GSI page": dict(TableName=table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                             ExpressionAttributeValues={":g": S("g#3")}, Limit=25,
                             ExclusiveStartKey=dict(contact(403), gsi1pk=S("g#3"))),
        }

        def per_query(query, times):
            """Median milliseconds of a query (the machine may be busy), and its items."""
            durations = []
            for _ in range(times + 1):
                start = time.perf_counter()
                answer = self.db.query(**query)
                durations.append((time.perf_counter() - start) * 1000)
            return statistics.median(durations[1:]), answer["Items"]

        load(range(1_000))
        small = {name: per_query(query, 40) for name, query in queries.items()}
        load(range(1_000, 50_000))
        big = {name: per_query(query, 40) for name, query in queries.items()}
        with moto_query():
            moto = {name: per_query(query, 2) for name, query in queries.items()}
        start = time.perf_counter()
        models._AttributeIndex(store.tables[table], "gsi1pk")
        build = (time.perf_counter() - start) * 1000
        for name in queries:
            self.assertEqual(big[name][1], moto[name][1])
            print(f"\n  {name} query of one partition: {small[name][0]:.2f} ms at 1,000 items, "
                  f"{big[name][0]:.2f} ms at 50,000 items (moto's own: {moto[name][0]:.0f} ms)", end="")
        print(f"\n  building the map of gsi1pk at 50,000 items (once, at the first query): {build:.0f} ms")
        self.assertEqual(len(big["GSI"][1]), 5)
        self.assertEqual(len(big["GSI page"][1]), 25)
        self.assertLess(big["GSI page"][0] / small["GSI page"][0], 3)
        self.assertLess(big["GSI"][0] / small["GSI"][0], 3)
        self.assertLess(big["table"][0] / small["table"][0], 3)

    def test_9_stream_records_read_as_moto_serializes_them(self):
        table = self.table("streamed")
        item = {"pk": S("c#1"), "sk": S("PROFILE"), "n": {"N": "1.5"}, "b": {"B": b"\x00\xff"},
                "bs": {"BS": [b"\x01"]}, "ss": {"SS": ["a", "b"]}, "l": {"L": [S("x"), {"M": {"t": {"BOOL": True}}}]},
                "none": {"NULL": True}}
        self.db.put_item(TableName=table, Item=item)
        self.db.put_item(TableName=table, Item={**item, "n": {"N": "2"}})
        self.db.delete_item(TableName=table, Key={"pk": S("c#1"), "sk": S("PROFILE")})
        patched = self.stream_records(table)
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

        DynamoDBStreamsHandler.get_records = models._moto_get_records
        try:
            moto = self.stream_records(table)
        finally:
            DynamoDBStreamsHandler.get_records = models._json_get_records
        self.assertEqual([r["eventName"] for r in patched], ["INSERT", "MODIFY", "REMOVE"])
        self.assertEqual(patched, moto)
        self.assertEqual(patched[0]["dynamodb"]["NewImage"]["b"], {"B": b"\x00\xff"})

    def test_10_a_receive_hands_out_each_message_once_and_keeps_retention(self):
        sqs = self.sqs
        url = sqs.create_queue(QueueName="backlog", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        for start in range(0, 300, 10):
            entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        seen = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            seen += [m["Body"] for m in got]
        self.assertEqual(sorted(seen), sorted(f"m{i}" for i in range(300)))
        counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                  "ApproximateNumberOfMessagesDelayed"]
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=30)
        sqs.send_message(QueueUrl=url, MessageBody="now")
        sqs.send_message(QueueUrl=url, MessageBody="taken")
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
        # 300 received and not deleted are in flight, with the one just taken.
        self.assertEqual([attributes[name] for name in counts], ["1", "301", "1"])
        expired = sqs.create_queue(QueueName="expired", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=expired, MessageBody="old")
        for message in models_sqs.sqs_backends[ACCOUNT][REGION].get_queue("expired")._messages:
            message.sent_timestamp -= 61_000
        self.assertNotIn("Messages", sqs.receive_message(QueueUrl=expired))

    def test_11_items_are_refused_at_moto_s_size(self):
        """Sized once, an item is refused exactly where moto's per-attribute check refuses it,
        with the same error, and kept the same below it (sizes around 405,000 bytes)."""
        table = self.table("sized", stream=False)

        def outcome(size, attributes):
            key = {"pk": S(f"c#{size}-{attributes}"), "sk": S("profile")}
            share = size // attributes
            item = dict(key, **{f"a{i:02d}": S("x" * share) for i in range(attributes)})
            try:
                self.db.put_item(TableName=table, Item=item)
            except ClientError as error:
                return error.response["Error"]["Code"], error.response["Error"]["Message"]
            stored = self.db.get_item(TableName=table, Key=key)["Item"]
            self.db.delete_item(TableName=table, Key=key)
            return "stored", stored == item

        cases = [(size, n) for size in (404_000, 404_900, 404_950, 405_000, 406_000) for n in (1, 30)]
        patched = [outcome(*case) for case in cases]
        models.Item.__init__ = models._moto_item_init
        try:
            moto = [outcome(*case) for case in cases]
        finally:
            models.Item.__init__ = models._item_init
        self.assertEqual(patched, moto)
        self.assertEqual(patched[0], ("stored", True))
        self.assertEqual(patched[-1][0], "ValidationException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
