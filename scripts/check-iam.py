#!/usr/bin/env python3
"""After the tests: every DynamoDB request a function made is allowed by its policy.

Reads the emulator's request log (EMULATOR_REQUEST_LOG, written by scripts/moto_server.py;
default target/dynamodb-requests.jsonl) and infra/template.yaml. The local stack signs each
function's requests with the function's logical id (tools/src/local.rs); requests signed
otherwise (tests' own stores, the stack's bootstrap) are not checked, nor the store's meter
reads (on the emulator only, it reads items before writing them, to bill the write). Each request becomes the
IAM requests AWS authorizes: its action on the table or on the index it queries, with
dynamodb:LeadingKeys the partition key values it names (for a Query on an index, the index's
partition key value: the assumption docs/security.md states). Those are evaluated against the
function's policy as written: its inline statements, and SAM's DynamoDB policy templates.
This checks the policy, not AWS: it cannot see a condition AWS would apply differently.

Fails listing every denied request (function, action, resource, key); lists, for information,
the statements and LeadingKeys patterns of each function that no request used.

    .venv/bin/python scripts/check-iam.py [--log PATH] [--template PATH]
"""

import argparse
import collections
import fnmatch
import json
import os
import re
import sys

import yaml

ARN = "arn:aws:dynamodb:*:*:table/{table}"
# SAM's policy templates that reach DynamoDB, as SAM expands them: none carries a key condition.
SAM_DYNAMODB_TEMPLATES = {
    "DynamoDBCrudPolicy": [
        "GetItem", "DeleteItem", "PutItem", "Scan", "Query", "UpdateItem",
        "BatchWriteItem", "BatchGetItem", "DescribeTable", "ConditionCheckItem",
    ],
    "DynamoDBReadPolicy": ["GetItem", "Scan", "Query", "BatchGetItem", "DescribeTable"],
    "DynamoDBWritePolicy": ["PutItem", "UpdateItem", "BatchWriteItem"],
}
TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (`!Sub x` read as `{"Fn::Sub": x}`)."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


class Template:
    """The table's keys and each function's DynamoDB statements, from the template."""

    def __init__(self, doc):
        resources = doc["Resources"]
        tables = {k: r for k, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
        if len(tables) != 1:
            raise ValueError(f"expected one DynamoDB table, found {sorted(tables)}")
        (self.table, spec), = tables.items()
        props = spec["Properties"]
        self.partition_keys = {None: _hash_key(props["KeySchema"])}
        for index in props.get("GlobalSecondaryIndexes", []):
            self.partition_keys[index["IndexName"]] = _hash_key(index["KeySchema"])
        self.functions = {
            name: list(self._statements(r["Properties"].get("Policies", [])))
            for name, r in resources.items()
            if r["Type"] == "AWS::Serverless::Function"
        }

    def _statements(self, policies):
        for policy in policies if isinstance(policies, list) else [policies]:
            if not isinstance(policy, dict):
                continue  # a managed policy's name: none of ours reach DynamoDB
            if "Statement" in policy:
                yield from [self._resolved(s) for s in policy["Statement"] if _is_dynamodb(s)]
            for name, actions in SAM_DYNAMODB_TEMPLATES.items():
                if name in policy:
                    table_name = policy[name]["TableName"]
                    table = ARN.format(table=table_name["Ref"] if isinstance(table_name, dict) else table_name)
                    yield {
                        "Effect": "Allow",
                        "Action": [f"dynamodb:{a}" for a in actions],
                        "Resource": [table, f"{table}/index/*"],
                        "Sid": name,
                    }

    def _resolved(self, statement):
        resources = statement["Resource"]
        return {**statement, "Resource": [self.resource(r) for r in _listed(resources)], "Action": _listed(statement["Action"])}

    def resource(self, value):
        """A Resource as an ARN pattern: the table's ARN spelled with its logical id."""
        if isinstance(value, str):
            return value
        if "Fn::GetAtt" in value:
            name, attribute = value["Fn::GetAtt"]
            arn = ARN.format(table=name)
            return {"Arn": arn, "StreamArn": f"{arn}/stream/*"}.get(attribute, f"{name}.{attribute}")
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            text = re.sub(r"\$\{(\w+)\.Arn\}", lambda m: ARN.format(table=m.group(1)), text)
            return re.sub(r"\$\{[^}]+\}", "*", text)
        raise ValueError(f"cannot read the resource {value!r}")

    def requests(self, logged):
        """The IAM requests one logged DynamoDB request needs: (action, resource, leading keys)."""
        action, body = logged["action"], logged["request"]
        table = ARN.format(table=self.table)
        key_of = lambda key: [_string(key.get(self.partition_keys[None]))]  # noqa: E731
        if action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
            return [(action, table, key_of(body.get("Key") or body.get("Item") or {}))]
        if action in ("Query", "Scan"):
            index = body.get("IndexName")
            resource = f"{table}/index/{index}" if index else table
            keys = [self.query_partition(body, index)] if action == "Query" else []
            return [(action, resource, keys)]
        if action == "BatchGetItem":
            return [
                (action, table, key_of(key)) for wanted in body["RequestItems"].values() for key in wanted["Keys"]
            ]
        if action == "BatchWriteItem":
            return [
                (action, table, key_of(write.get("PutRequest", {}).get("Item") or write["DeleteRequest"]["Key"]))
                for writes in body["RequestItems"].values()
                for write in writes
            ]
        if action == "TransactWriteItems":
            return [
                (TRANSACTION_ACTIONS[kind], table, key_of(op.get("Item") or op["Key"]))
                for entry in body["TransactItems"]
                for kind, op in entry.items()
            ]
        if action == "TransactGetItems":
            return [("GetItem", table, key_of(entry["Get"]["Key"])) for entry in body["TransactItems"]]
        return [(action, table, [])]  # DescribeTable and friends: no key

    def query_partition(self, body, index):
        """The partition key value a Query names, from its key condition."""
        attribute = self.partition_keys[index]
        if "KeyConditions" in body:
            return _string(body["KeyConditions"][attribute]["AttributeValueList"][0])
        names = body.get("ExpressionAttributeNames", {})
        values = body.get("ExpressionAttributeValues", {})
        for left, right in re.findall(r"([#:]?[\w.]+)\s*=\s*([#:]?[\w.]+)", body["KeyConditionExpression"]):
            for name, value in ((left, right), (right, left)):
                if names.get(name, name) == attribute and value.startswith(":"):
                    return _string(values[value])
        raise ValueError(f"no partition key condition on {attribute} in {body['KeyConditionExpression']!r}")


def _hash_key(schema):
    return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")


def _listed(value):
    return value if isinstance(value, list) else [value]


def _string(value):
    return value.get("S") if isinstance(value, dict) else None


def _is_dynamodb(statement):
    return any(a.lower().startswith("dynamodb:") or a == "*" for a in _listed(statement["Action"]))


def _like(pattern, value):
    """IAM's StringLike and ARN matching: `*` any run, `?` one character, case-sensitive."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_holds(condition, leading_keys):
    for operator, tests in condition.items():
        for key, patterns in tests.items():
            if key != "dynamodb:LeadingKeys" or operator not in ("ForAllValues:StringLike", "ForAllValues:StringEquals"):
                raise ValueError(f"cannot evaluate the condition {operator} {key}")
            match = _like if operator.endswith("Like") else str.__eq__
            # ForAllValues: every value matches a pattern (and no value at all passes).
            if not all(k is not None and any(match(p, k) for p in _listed(patterns)) for k in leading_keys):
                return False
    return True


def _matching(statement, action, resource, leading_keys):
    """The statement's LeadingKeys patterns this request used, or None when it does not apply."""
    if not any(_like(a.lower(), f"dynamodb:{action}".lower()) for a in statement["Action"]):
        return None
    if not any(_like(r, resource) for r in statement["Resource"]):
        return None
    condition = statement.get("Condition", {})
    if not _condition_holds(condition, leading_keys):
        return None
    patterns = condition.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", [])
    return {p for p in patterns for k in leading_keys if k is not None and _like(p, k)}


def allowed(statements, action, resource, leading_keys):
    """Whether the statements allow the request, and what of them it used: (statement, None),
    (statement, action) and (statement, LeadingKeys pattern) pairs."""
    used, allow = set(), False
    for i, statement in enumerate(statements):
        patterns = _matching(statement, action, resource, leading_keys)
        if patterns is None:
            continue
        if statement["Effect"] == "Deny":
            return False, set()
        allow = True
        used.update([(i, None), (i, f"dynamodb:{action}")])
        used.update((i, p) for p in patterns)
    return allow, used


def key_shape(key):
    """`WS#acme#C#000000000007` → `WS#*#C#*`: the key's kind, so denials group by what was reached."""
    if key is None:
        return "(no key)"
    return "#".join(part if re.fullmatch(r"[A-Z_]+", part) else "*" for part in key.split("#"))


def check(template, lines):
    """(checked requests by function, denied requests by key kind with counts, unused statements and patterns)."""
    checked, denied, used = collections.Counter(), collections.Counter(), collections.defaultdict(set)
    for logged in lines:
        function = logged.get("access_key_id")
        if function not in template.functions or logged.get("meter_read"):
            continue
        for action, resource, keys in template.requests(logged):
            checked[function] += 1
            ok, by = allowed(template.functions[function], action, resource, keys)
            used[function] |= by
            if not ok:
                shapes = ", ".join(key_shape(k) for k in keys)
                denied[(function, action, resource, shapes)] += 1
    unused = {}
    for function, statements in template.functions.items():
        for i, statement in enumerate(statements):
            patterns = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", [])
            idle = [p for p in _listed(patterns) if (i, p) not in used[function]]
            actions = {what.lower() for j, what in used[function] if j == i and what and what.startswith("dynamodb:")}
            idle += [a for a in statement["Action"] if not any(_like(a.lower(), used) for used in actions)]
            if (i, None) not in used[function] or idle:
                label = statement.get("Sid") or _label(statement)
                unused.setdefault(function, []).append((label, (i, None) not in used[function], idle))
    return checked, denied, unused


def _label(statement):
    """`GetItem,Query on table,index/gsi1`: a statement, short."""
    actions = ",".join(a.split(":")[-1] for a in statement["Action"])
    resources = ",".join(re.sub(r"^arn:aws:dynamodb:\*:\*:table/\w+/?", "", r) or "table" for r in statement["Resource"])
    return f"{actions} on {resources}"


def load_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", default=os.environ.get("EMULATOR_REQUEST_LOG", "target/dynamodb-requests.jsonl"))
    parser.add_argument("--template", default="infra/template.yaml")
    args = parser.parse_args()
    with open(args.template, encoding="utf-8") as f:
        template = Template(yaml.load(f, Loader=CfnLoader))
    checked, denied, unused = check(template, load_log(args.log))
    for function in sorted(template.functions):
        print(f"{function}: {checked[function]} requests checked")
    for function, statements in sorted(unused.items()):
        for label, whole, patterns in statements:
            what = "no request used it" if whole else f"no request used {', '.join(patterns)}"
            print(f"  (info) {function}: {label}: {what}")
    if not checked:
        print(f"check-iam: no function's request in {args.log}: is the emulator recording?", file=sys.stderr)
        return 1
    for (function, action, resource, key), count in sorted(denied.items()):
        print(f"DENIED {function}: dynamodb:{action} on {resource} key {key!r} ({count}x)", file=sys.stderr)
    if denied:
        print(f"check-iam: {sum(denied.values())} requests denied by the policies in {args.template}", file=sys.stderr)
        return 1
    print(f"check-iam: {sum(checked.values())} requests, all allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
