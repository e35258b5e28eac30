"""The few protobuf messages the readers and writers need, defined from the field numbers of
``reference/stream-formats.md`` §3.3–3.4 and §1.5 and built with the protobuf runtime.

Fields the project only hashes or forwards are declared as ``bytes``: the runtime then hands back
the exact wire bytes, which is what the block root hash is computed over.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "hiero_replay.streams"

# (name, number, type, message type name or None, repeated, oneof index or None)
_Field = tuple[str, int, int, str | None, bool, int | None]

_MESSAGES: dict[str, tuple[list[_Field], list[str]]] = {
    "Timestamp": ([("seconds", 1, _F.TYPE_INT64, None, False, None), ("nanos", 2, _F.TYPE_INT32, None, False, None)], []),
    "SemanticVersion": (
        [
            ("major", 1, _F.TYPE_UINT32, None, False, None),
            ("minor", 2, _F.TYPE_UINT32, None, False, None),
            ("patch", 3, _F.TYPE_UINT32, None, False, None),
            ("pre", 4, _F.TYPE_STRING, None, False, None),
            ("build", 5, _F.TYPE_STRING, None, False, None),
        ],
        [],
    ),
    # Block { repeated BlockItem items = 1; } read as raw item bytes.
    "Block": ([("items", 1, _F.TYPE_BYTES, None, True, None)], []),
    "BlockHeader": (
        [
            ("hapi_proto_version", 1, _F.TYPE_MESSAGE, "SemanticVersion", False, None),
            ("software_version", 2, _F.TYPE_MESSAGE, "SemanticVersion", False, None),
            ("number", 3, _F.TYPE_UINT64, None, False, None),
            # Raw Timestamp bytes: the root hash covers them exactly as serialized.
            ("block_timestamp", 4, _F.TYPE_BYTES, None, False, None),
            ("hash_algorithm", 5, _F.TYPE_INT32, None, False, None),
        ],
        [],
    ),
    "RoundHeader": ([("round_number", 1, _F.TYPE_UINT64, None, False, None)], []),
    "BlockFooter": (
        [
            ("previous_block_root_hash", 1, _F.TYPE_BYTES, None, False, None),
            ("root_hash_of_all_block_hashes_tree", 2, _F.TYPE_BYTES, None, False, None),
            ("start_of_block_state_root_hash", 3, _F.TYPE_BYTES, None, False, None),
        ],
        [],
    ),
    "TssSignedBlockProof": ([("block_signature", 1, _F.TYPE_BYTES, None, False, None)], []),
    # Current proofs use a oneof of 2/3/4; the HAPI 0.69 simulator blocks carry field 5 instead.
    "BlockProof": (
        [
            ("block", 1, _F.TYPE_UINT64, None, False, None),
            ("signed_block_proof", 2, _F.TYPE_MESSAGE, "TssSignedBlockProof", False, 0),
            ("block_state_proof", 3, _F.TYPE_BYTES, None, False, 0),
            ("signed_record_file_proof", 4, _F.TYPE_BYTES, None, False, 0),
            ("legacy_sibling_hashes", 5, _F.TYPE_BYTES, None, True, None),
        ],
        ["proof"],
    ),
    "RecordFileItem": (
        [
            ("creation_time", 1, _F.TYPE_MESSAGE, "Timestamp", False, None),
            ("record_file_contents", 2, _F.TYPE_BYTES, None, False, None),
            ("sidecar_file_contents", 3, _F.TYPE_BYTES, None, True, None),
            ("amendments", 4, _F.TYPE_BYTES, None, True, None),
        ],
        [],
    ),
    # GossipEvent / EventCore: only used by the synthetic event writer (reference §1.5).
    "EventCore": (
        [
            ("creator_node_id", 1, _F.TYPE_INT64, None, False, None),
            ("birth_round", 2, _F.TYPE_INT64, None, False, None),
            ("time_created", 3, _F.TYPE_MESSAGE, "Timestamp", False, None),
        ],
        [],
    ),
    "GossipEvent": (
        [
            ("event_core", 1, _F.TYPE_MESSAGE, "EventCore", False, None),
            ("signature", 2, _F.TYPE_BYTES, None, False, None),
            ("transactions", 4, _F.TYPE_BYTES, None, True, None),
        ],
        [],
    ),
    "EventHeader": ([("event_core", 1, _F.TYPE_MESSAGE, "EventCore", False, None)], []),
    # BlockItem oneof, for the writer; the reader dispatches on the item's field number instead.
    "BlockItem": (
        [
            ("block_header", 1, _F.TYPE_MESSAGE, "BlockHeader", False, 0),
            ("event_header", 2, _F.TYPE_BYTES, None, False, 0),
            ("round_header", 3, _F.TYPE_MESSAGE, "RoundHeader", False, 0),
            ("signed_transaction", 4, _F.TYPE_BYTES, None, False, 0),
            ("transaction_result", 5, _F.TYPE_BYTES, None, False, 0),
            ("transaction_output", 6, _F.TYPE_BYTES, None, False, 0),
            ("state_changes", 7, _F.TYPE_BYTES, None, False, 0),
            ("block_proof", 9, _F.TYPE_MESSAGE, "BlockProof", False, 0),
            ("record_file", 10, _F.TYPE_MESSAGE, "RecordFileItem", False, 0),
            ("trace_data", 11, _F.TYPE_BYTES, None, False, 0),
            ("block_footer", 12, _F.TYPE_MESSAGE, "BlockFooter", False, 0),
        ],
        ["item"],
    ),
}


def _build_pool() -> descriptor_pool.DescriptorPool:
    file = descriptor_pb2.FileDescriptorProto(name="hiero_replay_streams.proto", package=_PACKAGE, syntax="proto3")
    for name, (fields, oneofs) in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for oneof in oneofs:
            message.oneof_decl.add(name=oneof)
        for field_name, number, field_type, type_name, repeated, oneof_index in fields:
            field = message.field.add(
                name=field_name,
                number=number,
                type=field_type,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
            if oneof_index is not None:
                field.oneof_index = oneof_index
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


_POOL = _build_pool()


def _message(name: str) -> Any:  # the runtime builds these classes: no static type exists for them
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{_PACKAGE}.{name}"))


Timestamp = _message("Timestamp")
SemanticVersion = _message("SemanticVersion")
Block = _message("Block")
BlockItem = _message("BlockItem")
BlockHeader = _message("BlockHeader")
RoundHeader = _message("RoundHeader")
BlockFooter = _message("BlockFooter")
BlockProof = _message("BlockProof")
TssSignedBlockProof = _message("TssSignedBlockProof")
RecordFileItem = _message("RecordFileItem")
EventCore = _message("EventCore")
GossipEvent = _message("GossipEvent")
EventHeader = _message("EventHeader")
