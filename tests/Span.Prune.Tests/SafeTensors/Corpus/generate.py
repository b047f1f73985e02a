#!/usr/bin/env python3
"""Writes the differential corpus: one small safetensors file per case, each breaking one rule of the format
(or its valid counterpart), and cases.tsv with what this library must say about it.

cases.tsv columns: file, reference verdict (ACCEPT/REJECT, as huggingface/safetensors' reader decides; recorded by
running the reference crate on these very files, see README.md), our rule (SafeTensorsFormatRule name, or '-' when we
accept), the tensor the rejection must name ('-' for none), and 'differ' where we deliberately disagree.
Run from this folder: python3 generate.py
"""
import os, struct

T = '"dtype":"F32","shape":[2],"data_offsets":[0,8]'
Z8 = b"\0" * 8
cases = []

def case(name, header, data=b"", ref="ACCEPT", rule="-", tensor="-", n=None, differ=False):
    cases.append((name, header, data, ref, rule, tensor, n, differ))

def ok(name, header, data=b""): case(name, header, data)
def bad(name, header, data, rule, tensor="-", ref="REJECT", **kw): case(name, header, data, ref, rule, tensor, **kw)

# --- length prefix and header size -------------------------------------------------------------------------------
ok("valid_minimal", '{"a":{%s}}' % T, Z8)
ok("valid_empty_object", "{}")
bad("header_len_short_by_2", '{"a":{%s}}' % T, Z8, "Json", n=len('{"a":{%s}}' % T) - 2)
bad("header_len_long_by_1", '{"a":{%s}}' % T, Z8, "Json", n=len('{"a":{%s}}' % T) + 1)
bad("header_len_past_eof", "{}", b"", "HeaderLength", n=3)
bad("header_len_zero", "", b"", "Json")
bad("header_too_large", "{}", b"", "HeaderTooLarge", n=100_000_001)
# the limit itself (100,000,000) is exercised by a generated test, not a 100 MB file
# --- first byte, padding ---------------------------------------------------------------------------------------------
ok("leading_whitespace", ' \t\r\n{"a":{%s}}' % T, Z8)
ok("trailing_space_padding", '{"a":{%s}}       ' % T, Z8)
ok("trailing_mixed_whitespace", '{"a":{%s}}\t\r\n ' % T, Z8)
bad("trailing_nul_padding", '{"a":{%s}}\0\0\0' % T, Z8, "Json")
bad("trailing_formfeed", '{"a":{%s}}\x0c' % T, Z8, "Json")
bad("byte_order_mark", '\ufeff{"a":{%s}}' % T, Z8, "Json")
bad("content_after_root", '{"a":{%s}} {}' % T, Z8, "Json")
bad("root_is_array", "[]", b"", "NotAnObject")
bad("root_is_null", "null", b"", "NotAnObject")
bad("invalid_utf8", b'{"a\xff":{' + T.encode() + b'}}', Z8, "Utf8")
bad("utf8_encoded_surrogate", b'{"a\xed\xa0\x80":{' + T.encode() + b'}}', Z8, "Utf8")
bad("trailing_comma", '{"a":{%s},}' % T, Z8, "Json")
bad("comment", '{/*c*/"a":{%s}}' % T, Z8, "Json")
# --- offsets: contiguous from 0 to the end ----------------------------------------------------------------------
ok("two_tensors_contiguous", '{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"I8","shape":[1],"data_offsets":[1,2]}}', b"\0\0")
ok("two_tensors_header_order_reversed", '{"b":{"dtype":"I8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}', b"\0\0")
bad("first_offset_not_zero", '{"a":{"dtype":"I8","shape":[1],"data_offsets":[1,2]}}', b"\0\0", "Offset", "a")
bad("gap_between_tensors", '{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"I8","shape":[1],"data_offsets":[2,3]}}', b"\0\0\0", "Offset", "b")
bad("overlap", '{"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"I8","shape":[2],"data_offsets":[1,3]}}', b"\0\0\0", "Offset", "b")
bad("same_range_twice", '{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}', b"\0", "Offset", "b")
bad("trailing_byte", '{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}', b"\0\0", "IncompleteBuffer")
bad("trailing_bytes_no_tensors", "{}", b"\0", "IncompleteBuffer")
bad("data_short", '{"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}', b"\0", "IncompleteBuffer")
bad("end_before_begin", '{"a":{"dtype":"I8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"I8","shape":[0],"data_offsets":[1,0]}}', b"", "Offset", "b")
ok("zero_size_tensors_share_offset", '{"a":{"dtype":"I8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[3,0],"data_offsets":[0,0]},"c":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}', b"\0")
ok("zero_size_tensor_at_end", '{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"z":{"dtype":"I8","shape":[0],"data_offsets":[1,1]}}', b"\0")
bad("zero_size_tensor_past_end", '{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"z":{"dtype":"I8","shape":[0],"data_offsets":[2,2]}}', b"\0", "Offset", "z")
# --- byte length = elements x dtype size -------------------------------------------------------------------------
bad("byte_length_too_small", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"\0" * 4, "ByteLength", "a")
bad("byte_length_too_large", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}', b"\0" * 12, "ByteLength", "a")
ok("scalar_shape_empty", '{"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}', Z8)
bad("scalar_shape_empty_wrong_length", '{"a":{"dtype":"F64","shape":[],"data_offsets":[0,0]}}', b"", "ByteLength", "a")
# --- overflow: left-to-right checked product in u64, then x bits -------------------------------------------------
bad("overflow_elements", '{"a":{"dtype":"I8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}', b"", "Overflow", "a")
bad("overflow_before_zero", '{"a":{"dtype":"I8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}', b"", "Overflow", "a")
ok("zero_before_huge", '{"a":{"dtype":"I8","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}', b"")
bad("overflow_bits", '{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}', b"", "Overflow", "a")
bad("no_overflow_but_wrong_length", '{"a":{"dtype":"F64","shape":[144115188075855872],"data_offsets":[0,0]}}', b"", "ByteLength", "a")
# --- integers ----------------------------------------------------------------------------------------------------------
bad("shape_negative", '{"a":{"dtype":"I8","shape":[-1],"data_offsets":[0,0]}}', b"", "Shape", "a")
bad("shape_minus_zero", '{"a":{"dtype":"I8","shape":[-0],"data_offsets":[0,0]}}', b"", "Shape", "a")
bad("shape_fraction", '{"a":{"dtype":"I8","shape":[1.0],"data_offsets":[0,1]}}', b"\0", "Shape", "a")
bad("shape_exponent", '{"a":{"dtype":"I8","shape":[1e0],"data_offsets":[0,1]}}', b"\0", "Shape", "a")
bad("shape_string", '{"a":{"dtype":"I8","shape":["1"],"data_offsets":[0,1]}}', b"\0", "Shape", "a")
bad("shape_null", '{"a":{"dtype":"I8","shape":null,"data_offsets":[0,0]}}', b"", "Shape", "a")
bad("shape_above_u64", '{"a":{"dtype":"I8","shape":[0,18446744073709551616],"data_offsets":[0,0]}}', b"", "Shape", "a")
bad("shape_u64_max_zero_elements", '{"a":{"dtype":"I8","shape":[0,18446744073709551615],"data_offsets":[0,0]}}', b"", "Shape", "a", ref="ACCEPT", differ=True)
ok("shape_i64_max_zero_elements", '{"a":{"dtype":"I8","shape":[0,9223372036854775807],"data_offsets":[0,0]}}', b"")
ok("shape_rank_1024", '{"a":{"dtype":"I8","shape":[%s],"data_offsets":[0,1]}}' % ",".join(["1"] * 1024), b"\0")
bad("shape_rank_1025", '{"a":{"dtype":"I8","shape":[%s],"data_offsets":[0,1]}}' % ",".join(["1"] * 1025), b"\0", "Shape", "a", ref="ACCEPT", differ=True)
bad("offsets_one", '{"a":{"dtype":"I8","shape":[0],"data_offsets":[0]}}', b"", "DataOffsets", "a")
bad("offsets_three", '{"a":{"dtype":"I8","shape":[0],"data_offsets":[0,0,0]}}', b"", "DataOffsets", "a")
bad("offsets_negative", '{"a":{"dtype":"I8","shape":[0],"data_offsets":[-1,0]}}', b"", "DataOffsets", "a")
bad("offsets_object", '{"a":{"dtype":"I8","shape":[0],"data_offsets":{"0":0,"1":0}}}', b"", "DataOffsets", "a")
bad("offsets_u64_max", '{"a":{"dtype":"I8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}}', b"", "Offset", "a")
# --- metadata ------------------------------------------------------------------------------------------------------
ok("metadata_strings", '{"__metadata__":{"format":"pt","k":""},"a":{%s}}' % T, Z8)
ok("metadata_null", '{"__metadata__":null,"a":{%s}}' % T, Z8)
ok("metadata_empty", '{"__metadata__":{},"a":{%s}}' % T, Z8)
ok("metadata_last", '{"a":{%s},"__metadata__":{"k":"v"}}' % T, Z8)
ok("metadata_empty_key", '{"__metadata__":{"":""},"a":{%s}}' % T, Z8)
ok("metadata_duplicate_key_last_wins", '{"__metadata__":{"k":"1","k":"2"},"a":{%s}}' % T, Z8)
ok("metadata_escaped_key", '{"__metadata\\u005f_":{"k":"v"},"a":{%s}}' % T, Z8)
bad("metadata_number_value", '{"__metadata__":{"k":1},"a":{%s}}' % T, Z8, "Metadata", "__metadata__")
bad("metadata_null_value", '{"__metadata__":{"k":null},"a":{%s}}' % T, Z8, "Metadata", "__metadata__")
bad("metadata_nested_object", '{"__metadata__":{"k":{}},"a":{%s}}' % T, Z8, "Metadata", "__metadata__")
bad("metadata_array", '{"__metadata__":[],"a":{%s}}' % T, Z8, "Metadata", "__metadata__")
bad("metadata_twice", '{"__metadata__":{},"__metadata__":{},"a":{%s}}' % T, Z8, "Metadata", "__metadata__")
bad("metadata_twice_escaped", '{"__metadata__":{},"__metadata\\u005f_":{},"a":{%s}}' % T, Z8, "Metadata", "__metadata__")
# --- names and duplicates ------------------------------------------------------------------------------------------
ok("empty_tensor_name", '{"":{%s}}' % T, Z8)
ok("escaped_names", '{"\\u00e9\\n\\u0000":{%s}}' % T, Z8)
ok("surrogate_pair_name", '{"\\ud83d\\ude00":{%s}}' % T, Z8)
ok("duplicate_name_last_wins", '{"a":{"dtype":"I8","shape":[8],"data_offsets":[0,8]},"a":{%s}}' % T, Z8)
bad("duplicate_name_earlier_range_lost", '{"a":{"dtype":"I8","shape":[8],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', b"\0" * 16, "Offset", "a")
bad("lone_high_surrogate_name", '{"\\ud800":{%s}}' % T, Z8, "Json")
bad("lone_low_surrogate_metadata", '{"__metadata__":{"k":"\\udc00"},"a":{%s}}' % T, Z8, "Json", "__metadata__")
bad("lone_surrogate_unknown_field", '{"a":{%s,"x":["\\ud800"]}}' % T, Z8, "Json", "a")
bad("lone_surrogate_unknown_field_name", '{"a":{%s,"\\ud800":1}}' % T, Z8, "Json", "a")
bad("control_char_in_name", '{"a\tb":{%s}}' % T, Z8, "Json")
# --- tensor entry ------------------------------------------------------------------------------------------------------
ok("unknown_fields_ignored", '{"a":{%s,"x":null,"y":[1,{"z":"w"}],"note":"hi"}}' % T, Z8)
ok("unknown_field_tiny_float", '{"a":{%s,"x":1e-400}}' % T, Z8)
bad("unknown_field_float_overflow", '{"a":{%s,"x":1e400}}' % T, Z8, "Json", "a")
bad("unknown_field_integer_overflow", '{"a":{%s,"x":1%s}}' % (T, "0" * 309), Z8, "Json", "a")
ok("unknown_field_big_integer", '{"a":{%s,"x":1%s}}' % (T, "0" * 308), Z8)
ok("nesting_127", '{"a":{%s,"x":%s}}' % (T, "[" * 125 + "]" * 125), Z8)
bad("nesting_128", '{"a":{%s,"x":%s}}' % (T, "[" * 126 + "]" * 126), Z8, "Json")
bad("duplicate_field", '{"a":{%s,"dtype":"F32"}}' % T, Z8, "DuplicateField", "a")
bad("missing_dtype", '{"a":{"shape":[2],"data_offsets":[0,8]}}', Z8, "MissingField", "a")
bad("missing_shape", '{"a":{"dtype":"F32","data_offsets":[0,8]}}', Z8, "MissingField", "a")
bad("missing_offsets", '{"a":{"dtype":"F32","shape":[2]}}', Z8, "MissingField", "a")
bad("entry_null", '{"a":null}', b"", "NotAnObject", "a")
bad("entry_string", '{"a":"x"}', b"", "NotAnObject", "a")
bad("entry_as_array", '{"a":["F32",[2],[0,8]]}', Z8, "NotAnObject", "a", ref="ACCEPT", differ=True)
bad("dtype_as_map", '{"a":{"dtype":{"F32":null},"shape":[2],"data_offsets":[0,8]}}', Z8, "DType", "a", ref="ACCEPT", differ=True)
# --- dtypes ----------------------------------------------------------------------------------------------------------
BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
        "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32,
        "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64}
for name, bits in BITS.items():
    nbytes = 4 * bits // 8  # four elements: a whole number of bytes for every dtype
    ok("dtype_" + name, '{"t":{"dtype":"%s","shape":[2,2],"data_offsets":[0,%d]}}' % (name, nbytes), b"\0" * nbytes)
bad("dtype_lowercase", '{"t":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}', Z8, "DType", "t")
bad("dtype_unknown", '{"t":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', b"\0" * 16, "DType", "t")
bad("dtype_number", '{"t":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}', Z8, "DType", "t")
bad("dtype_F4_odd_count", '{"t":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}', b"\0", "PartialByte", "t")
bad("dtype_F6_two", '{"t":{"dtype":"F6_E3M2","shape":[2],"data_offsets":[0,1]}}', b"\0", "PartialByte", "t")

here = os.path.dirname(os.path.abspath(__file__))
files = os.path.join(here, "files")
os.makedirs(files, exist_ok=True)
for f in os.listdir(files):
    os.remove(os.path.join(files, f))
with open(os.path.join(here, "cases.tsv"), "w") as out:
    out.write("file\treference\trule\ttensor\tdiffer\n")
    for name, header, data, ref, rule, tensor, n, differ in cases:
        h = header.encode("utf-8") if isinstance(header, str) else header
        with open(os.path.join(files, name + ".safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(h) if n is None else n) + h + data)
        out.write(f"{name}.safetensors\t{ref}\t{rule}\t{tensor}\t{'differ' if differ else '-'}\n")
print(len(cases), "cases")
