#!/usr/bin/python3
"""Makes the audio-input fixtures of tests/audio from Hugging Face's own code (run once; the outputs
are checked in, the tests never run Python).

Clips come from an integer-only generator (`clip` below, repeated in tests/audio/audio_fixture.h),
so the C++ test writes the same 16-bit samples into a WAV and no long WAV needs to be stored. For
each case, Gemma4AudioFeatureExtractor's output for samples / 32768 (librosa's and soundfile's
scaling of 16-bit PCM) is summarised in manifest.json: the shape, the valid frames (the mask is a
prefix), the processor's soft-token count (Gemma4Processor.replace_audio_token on the mask), and
some rows of the features in `<case>.rows.f32` ([len(rows)][128], rows listed in the manifest).
hf_1s3.wav / hf_1s3.features.f32 are the audio.wav and audio_features.f32 of the ple-audio fixture
(tests/data/gemma4-mm/ple-audio: a 1.3 s seed-13 clip and Hugging Face's features of it), all 130 rows.

Needs transformers' sources (zucchini-nlp/transformers) through the hf-reference set-up helpers
named by HF_REFERENCE_DIR, and Debian's python3-numpy and python3-torch.
Usage: HF_REFERENCE_DIR=... /usr/bin/python3 make_fixtures.py OUT_DIR
"""
import json
import os
import sys

import numpy as np

if os.environ.get("HF_REFERENCE_DIR"):
    sys.path.insert(0, os.environ["HF_REFERENCE_DIR"])
    import hf_reference as hr  # noqa: E402
    hr.ensure_setup()
    import hf_torch113_shim  # noqa: F401,E402
from transformers.models.gemma4.feature_extraction_gemma4 import Gemma4AudioFeatureExtractor  # noqa: E402

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def clip(n, seed):
    """n int16 samples: a sawtooth, a slow integer chirp and LCG noise (exact in C++ and Python)."""
    out = np.empty(n, dtype=np.int16)
    x = seed & 0xFFFFFFFF
    for i in range(n):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        noise = ((x >> 20) & 0x3FF) - 512
        saw = ((i * 37) % 2000 - 1000) * 8
        chirp = ((i * i // 4000) % 500 - 250) * 4
        out[i] = saw + chirp + noise
    return out


def soft_tokens(mask):
    """Gemma4Processor.replace_audio_token: the mask after two stride-2 subsamplings, summed."""
    t = len(mask)
    for _ in range(2):
        t_out = (t + 2 - 3) // 2 + 1
        mask = mask[::2][:t_out]
        t = len(mask)
    return int(mask.sum())


fe = Gemma4AudioFeatureExtractor()
manifest = {}
# under one attention chunk (12 soft tokens = 0.48 s), several seconds, and over 30 s (truncated).
for name, n, seed in [("short", 1900, 3), ("seconds", 64123, 5), ("long", 504321, 9)]:
    pcm = clip(n, seed)
    r = fe([pcm.astype(np.float32) / 32768.0], sampling_rate=16000, return_tensors="np")
    feats, mask = r["input_features"][0], r["input_features_mask"][0]
    valid = int(mask.sum())
    assert mask[:valid].all() and not mask[valid:].any()
    frames = feats.shape[0]
    # the first rows, every 97th, and the last valid ones onward (keeps the files small)
    rows = sorted(set(list(range(min(6, frames))) + list(range(0, frames, 97)) +
                      list(range(max(0, valid - 6), frames))))
    feats[rows].astype("<f4").tofile(os.path.join(OUT, f"{name}.rows.f32"))
    manifest[name] = {"samples": n, "seed": seed, "frames": int(frames), "valid_frames": valid,
                      "soft_tokens": soft_tokens(mask), "rows": rows}
    print(name, frames, valid, manifest[name]["soft_tokens"], len(rows))
json.dump(manifest, open(os.path.join(OUT, "manifest.json"), "w"), indent=1)
