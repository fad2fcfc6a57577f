"""Brings moto's DynamoDB closer to DynamoDB where our tests depend on it. Idempotent.

1. Transactions snapshot each table once, not once per item: moto deep-copies the whole
   table for rollback before *each* item of a transaction, which makes a 40-item
   transaction on a table of a few thousand items take seconds. Same rollback semantics.
2. Writes are serialized: moto's threaded server runs concurrent requests without any
   locking, so two transactions can both pass a condition that only one should (DynamoDB
   transactions are serializable, single-item writes atomic). One lock around the
   backend's write operations restores that.

If moto's code changed, each patch says so and leaves moto alone.
"""

import pathlib
import sys

import moto.dynamodb.models as models

path = pathlib.Path(models.__file__)
source = path.read_text()
changed = False

old = "            if table_name and table_name in self.tables:\n                original_table_state[table_name] = copy.deepcopy("
new = "            if table_name and table_name in self.tables and table_name not in original_table_state:\n                original_table_state[table_name] = copy.deepcopy("
if new not in source:
    if old in source:
        source = source.replace(old, new)
        changed = True
    else:
        print(f"patch_moto: {path} changed upstream; transactions stay slow but correct", file=sys.stderr)

marker = "# ai-bot-contacts: serialized writes"
if marker not in source:
    if "class DynamoDBBackend(" in source:
        source += f"""

{marker}
import threading as _threading

_write_lock = _threading.RLock()


def _serialized(operation):
    def run(*args, **kwargs):
        with _write_lock:
            return operation(*args, **kwargs)

    return run


for _name in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))
"""
        changed = True
    else:
        print(f"patch_moto: {path} has no DynamoDBBackend; writes stay unserialized", file=sys.stderr)

if changed:
    path.write_text(source)
    print("patch_moto: transactions snapshot each table once; writes are serialized")
