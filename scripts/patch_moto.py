"""Brings moto's DynamoDB closer to DynamoDB where our tests depend on it. Idempotent.

1. Transactions roll back only what they touched. To be able to roll back, moto deep-copies
   every table a transaction names, so each transaction costs time and memory in proportion
   to the table, and loading N contacts one transaction each is quadratic. The override keeps
   a journal instead: the previous version (or absence) of each item the transaction may write
   and the length of each table's stream, and on failure puts back exactly those: what a
   client then sees (items, indexes, stream records) is what moto's own rollback leaves.
2. Writes are serialized: moto's threaded server runs concurrent requests without any
   locking, so two transactions can both pass a condition that only one should (DynamoDB
   transactions are serializable, single-item writes atomic). One lock around the
   backend's write operations restores that.

Both are Python appended to moto/dynamodb/models/__init__.py, replacing the backend's methods
at import. The script rebuilds that file as pip installed it plus the current overrides, so a
second run changes nothing and a changed override replaces the old one. The journal relies on
the details of moto's DynamoDB model: if those files are not the moto 5.2.5 it was written
for, the script says so and leaves transactions as moto made them.
"""

import hashlib
import importlib.util
import pathlib
import sys

MODELS = pathlib.Path(importlib.util.find_spec("moto").origin).parent / "dynamodb" / "models"
# sha256 of moto 5.2.5's models/__init__.py (as pip installs it) and models/table.py. For a
# new moto: check that transact_write_items still snapshots with copy.deepcopy(table), that
# every write it makes is at the key of a Put, Update or Delete, and that Table.items and
# StreamShard.items are laid out as the journal expects; then update these.
KNOWN = {
    "__init__.py": "deee8b9c59bc8a4be642e9968c1673b6e4be57b989f8fd6777dd29786864ca86",
    "table.py": "3fecc9e51039f5a1ac5e302a21dc7aef48639a185ba01b11f9a6c32cf7853ba8",
}
MARKER = "\n\n# ai-bot-contacts: "  # starts every block this script appends

JOURNAL = f'''{MARKER}journaled transaction rollback
# moto's transact_write_items snapshots each table it names with copy.deepcopy(table) and on
# failure puts the snapshots back in self.tables. While it runs, a deep copy of a table is the
# table itself, so its snapshot is free and putting it back changes nothing; the journal below
# undoes the writes instead. Indexes need nothing: moto computes them from the items.
# Any exception rolls back (moto forgets to for an entry holding two operations).
import threading as _threading

_transaction = _threading.local()


def _deepcopy_table(table, memo):
    if getattr(_transaction, "running", False):
        return table
    return copy._reconstruct(table, memo, *table.__reduce_ex__(4))  # deepcopy's default


def _journaled(transact_write_items):
    def run(self, transact_items):
        journal = {{}}  # (table name, hash key, range key) -> (table, item before, or None)
        tables = {{}}
        for entry in transact_items:
            for op_type, op in entry.items():
                table = self.tables.get(op.get("TableName"))
                if table is None or op_type == "ConditionCheck":
                    continue  # writes nothing
                tables[table.name] = table
                try:
                    key = op["Item"] if op_type == "Put" else op["Key"]
                    key = {{name: key[name] for name in table.table_key_attrs}}
                    hash_key, range_key = self.get_keys_value(table, key)
                except Exception:
                    continue  # moto fails this operation, and the transaction, before writing
                previous = copy.deepcopy(table.get_item(hash_key, range_key))  # updates edit in place
                journal.setdefault((table.name, hash_key, range_key), (table, previous))
        # Records the transaction adds to a stream go away with it, as with moto's snapshot.
        # (A Lambda event source mapping may swap in a new list: keep the one from before.)
        streams = [(t.stream_shard, t.stream_shard.items, len(t.stream_shard.items))
                   for t in tables.values() if t.stream_shard is not None]
        _transaction.running = True
        try:
            return transact_write_items(self, transact_items)
        except BaseException:
            for (_, hash_key, range_key), (table, previous) in journal.items():
                if range_key is None:
                    where, key = table.items, hash_key
                else:  # table.items[hash key] is a dict by range key
                    where, key = table.items[hash_key], range_key
                if previous is None:
                    where.pop(key, None)
                else:
                    where[key] = previous
            for shard, records, length in streams:
                del records[length:]
                shard.items = records
            raise
        finally:
            _transaction.running = False

    return run


Table.__deepcopy__ = _deepcopy_table
DynamoDBBackend.transact_write_items = _journaled(DynamoDBBackend.transact_write_items)
'''

# Appended after the journal, so the lock also covers the journal's snapshot and rollback.
LOCK = f'''{MARKER}serialized writes
import threading as _threading

_write_lock = _threading.RLock()


def _serialized(operation):
    def run(*args, **kwargs):
        with _write_lock:
            return operation(*args, **kwargs)

    return run


for _name in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))
'''

path = MODELS / "__init__.py"
source = path.read_text()
# The file as pip installed it: without our blocks, and without the text edit an earlier
# version of this script made (snapshot each table once per transaction, not once per item).
pristine = source.split(MARKER, 1)[0].replace(
    "if table_name and table_name in self.tables and table_name not in original_table_state:",
    "if table_name and table_name in self.tables:",
)

texts = {"__init__.py": pristine, "table.py": (MODELS / "table.py").read_text()}
patched, done = pristine, []
if all(hashlib.sha256(texts[name].encode()).hexdigest() == digest for name, digest in KNOWN.items()):
    patched += JOURNAL
    done.append("transactions roll back through a journal")
else:
    print(
        f"patch_moto: moto's DynamoDB model ({MODELS}) is not moto 5.2.5's; transactions keep "
        "moto's rollback, which copies whole tables (slow on big tables, but correct)",
        file=sys.stderr,
    )
if "class DynamoDBBackend(" in pristine:
    patched += LOCK
    done.append("writes are serialized")
else:
    print(f"patch_moto: {path} has no DynamoDBBackend; writes stay unserialized", file=sys.stderr)

if patched != source:
    path.write_text(patched)
    print(f"patch_moto: {'; '.join(done) or 'patches removed'}")
