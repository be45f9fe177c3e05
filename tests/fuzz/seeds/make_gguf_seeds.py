#!/usr/bin/env python3
"""Writes small GGUF v3 seed files for the GGUF fuzzer (format: host/model/gguf/gguf_file.h): metadata
of every value type, nested arrays, tensors of plain and block-quantized types, a custom alignment,
and one small file per tensor type the GGUF checkpoint loader accepts (types_<T>.gguf: a [values per
block, 2] tensor, two blocks of patterned bytes, beside an F32 norm)."""
import struct, sys, os

def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b

def kv(key, t, payload): return s(key) + struct.pack('<I', t) + payload

def gguf(kvs, tensors, alignment=32):
    out = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kvs)) + b''.join(kvs)
    off, data = 0, b''
    for name, ne, typ, raw in tensors:
        out += s(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', d) for d in ne)
        out += struct.pack('<IQ', typ, off)
        data += raw + b'\0' * ((-len(raw)) % alignment)
        off += len(raw) + ((-len(raw)) % alignment)
    out += b'\0' * ((-len(out)) % alignment)
    return out + data

kvs = [kv('general.architecture', 8, s('gemma4')), kv('gemma4.block_count', 4, struct.pack('<I', 2)),
       kv('gemma4.final_logit_softcapping', 6, struct.pack('<f', 30.0)), kv('x.b', 7, b'\1'),
       kv('x.u8', 0, b'\7'), kv('x.i16', 3, struct.pack('<h', -3)), kv('x.u64', 10, struct.pack('<Q', 1 << 40)),
       kv('x.f64', 12, struct.pack('<d', 0.5)), kv('x.i64', 11, struct.pack('<q', -9)),
       kv('gemma4.attention.head_count_kv', 9, struct.pack('<IQ', 5, 2) + struct.pack('<ii', 1, 2)),
       kv('tokenizer.ggml.tokens', 9, struct.pack('<IQ', 8, 3) + s('<pad>') + s('<eos>') + s('a')),
       kv('x.nested', 9, struct.pack('<IQ', 9, 1) + struct.pack('<IQ', 6, 2) + struct.pack('<ff', 1, 2))]
tensors = [('token_embd.weight', [32, 2], 1, bytes(range(128))),
           ('blk.0.attn_q.weight', [32, 1], 2, bytes(18)),
           ('blk.0.ffn_down.weight', [256], 12, bytes(144)),
           ('output_norm.weight', [4], 0, struct.pack('<4f', 1, 2, 3, 4)),
           ('blk.0.ffn_up.weight', [256], 14, bytes(210))]
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], 'full.gguf'), 'wb').write(gguf(kvs, tensors))
open(os.path.join(sys.argv[1], 'aligned64.gguf'), 'wb').write(
    gguf(kvs[:3] + [kv('general.alignment', 4, struct.pack('<I', 64))], tensors[:2], 64))
open(os.path.join(sys.argv[1], 'empty.gguf'), 'wb').write(gguf([], []))

# ggml type number: (name, values per block, bytes per block), as in host/model/gguf/gguf_file.cpp kTypes
# (the same block sizes as DTypeBytes in host/formats/dtype.cpp).
block_types = {0: ('F32', 1, 4), 1: ('F16', 1, 2), 30: ('BF16', 1, 2), 8: ('Q8_0', 32, 34),
               2: ('Q4_0', 32, 18), 3: ('Q4_1', 32, 20), 6: ('Q5_0', 32, 22), 7: ('Q5_1', 32, 24),
               10: ('Q2_K', 256, 84), 11: ('Q3_K', 256, 110), 12: ('Q4_K', 256, 144),
               13: ('Q5_K', 256, 176), 14: ('Q6_K', 256, 210)}
for typ, (name, values, nbytes) in block_types.items():
    row = max(values, 8)  # plain types: rows of 8 values
    raw = bytes((i * 37 + typ) & 0xff for i in range(row // values * nbytes * 2))
    open(os.path.join(sys.argv[1], 'types_%s.gguf' % name), 'wb').write(
        gguf(kvs[:2], [('blk.0.ffn_gate.weight', [row, 2], typ, raw),
                       ('blk.0.attn_norm.weight', [8], 0, struct.pack('<8f', *range(8)))]))
