#!/usr/bin/python3
"""Makes the image-input fixtures of tests/image from Hugging Face's own code (run once; the outputs
are checked in, the tests never run Python).

For each case: the source image file, and `<case>.expected.png`: what Gemma4ImageProcessorPil feeds
the vision tower, as the 8-bit resized image (its pixel_values are exactly these values / 255; the
script checks that), plus manifest.json with the budget, the resized size, the soft-token count.
Decoder cases (`decode_*`): the file and `<case>.rgb.png`, PIL's Image.open(...).convert("RGB") after
ImageOps.exif_transpose (HF's load_image).

Needs transformers' sources (zucchini-nlp/transformers, src/ on PYTHONPATH or through the
hf-reference set-up helpers named by HF_REFERENCE_DIR), Debian's python3-pil, python3-numpy and
python3-torch. Usage: HF_REFERENCE_DIR=... /usr/bin/python3 make_fixtures.py OUT_DIR
"""
import io
import json
import os
import sys

import numpy as np
from PIL import Image

if os.environ.get("HF_REFERENCE_DIR"):
    sys.path.insert(0, os.environ["HF_REFERENCE_DIR"])
    import hf_reference as hr  # noqa: E402
    hr.ensure_setup()
    import hf_torch113_shim  # noqa: F401,E402
from transformers.image_utils import load_image  # noqa: E402
from transformers.models.gemma4.image_processing_pil_gemma4 import Gemma4ImageProcessorPil  # noqa: E402

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def pattern(w, h, seed, noise=0.0):
    """Gradients, stripes, a disc and a little noise: detail for the filter, small as a PNG."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 128 + 127 * np.sin(x / 3.0) * (y % 16 < 8)
    img = np.stack([r, g, b], -1)
    disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.2) ** 2
    img[disc] = [240, 230, 20]
    img += rng.normal(0, noise, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def save_png(arr, path, mode=None):
    Image.fromarray(arr, mode).save(path, optimize=True)


manifest = {"preprocess": [], "decode": []}


def preprocess_case(name, src_file, budget):
    img = load_image(os.path.join(OUT, src_file))
    proc = Gemma4ImageProcessorPil(max_soft_tokens=budget)
    r = proc(images=[img], return_tensors="np")
    n = int(r["num_soft_tokens_per_image"][0])
    pos = r["image_position_ids"][0]
    real = pos[:, 0] >= 0
    pv = r["pixel_values"][0][real]
    px, py = int(pos[real][:, 0].max()) + 1, int(pos[real][:, 1].max()) + 1
    # back to the 8-bit resized image: patches (py, px) x (16, 16, 3)
    q = np.round(pv * 255.0)
    assert np.abs(q / 255.0 - pv).max() < 1e-6, "pixel_values are not k/255"
    im = q.astype(np.uint8).reshape(py, px, 16, 16, 3).transpose(0, 2, 1, 3, 4).reshape(py * 16, px * 16, 3)
    save_png(im, os.path.join(OUT, name + ".expected.png"))
    assert (pos[real][:, 0] == np.tile(np.arange(px), py)).all() and (pos[real][:, 1] == np.repeat(np.arange(py), px)).all()
    manifest["preprocess"].append({"name": name, "file": src_file, "budget": budget, "soft_tokens": n,
                                   "width": px * 16, "height": py * 16, "expected": name + ".expected.png"})
    print(name, img.size, "->", (px * 16, py * 16), n, "soft tokens")
    return pv


def decode_case(name, src_file):
    img = load_image(os.path.join(OUT, src_file))  # exif_transpose + convert("RGB")
    save_png(np.asarray(img.convert("RGB")), os.path.join(OUT, name + ".rgb.png"))
    manifest["decode"].append({"name": name, "file": src_file, "expected": name + ".rgb.png",
                               "width": img.size[0], "height": img.size[1]})
    print(name, img.size)


# 1. the shared tiny multimodal fixtures' images (copied next to this script by the caller)
for fx, budget in (("ple_vision", 70), ("dense_vision_bidir", 70)):
    if os.path.exists(os.path.join(OUT, fx + ".png")):
        pv = preprocess_case(fx, fx + ".png", budget)
        ref_path = os.environ.get("FIXTURE_" + fx.upper())
        if ref_path:
            ref = np.fromfile(ref_path, dtype=np.float32).reshape(-1, 768)
            assert ref.shape == pv.shape and np.abs(ref - pv).max() == 0, fx + ": differs from the shared fixture"

# 2. generated cases: a downscale, another budget, an upscale, a very wide image, grayscale, RGBA, EXIF JPEG
save_png(pattern(600, 400, 1), os.path.join(OUT, "down_600x400.png"))
preprocess_case("down_600x400_b70", "down_600x400.png", 70)
preprocess_case("down_600x400_b140", "down_600x400.png", 140)
save_png(pattern(90, 70, 2), os.path.join(OUT, "up_90x70.png"))
preprocess_case("up_90x70_b280", "up_90x70.png", 280)
save_png(pattern(3000, 20, 3), os.path.join(OUT, "wide_3000x20.png"))
preprocess_case("wide_3000x20_b70", "wide_3000x20.png", 70)
save_png(pattern(100, 2000, 4), os.path.join(OUT, "tall_100x2000.png"))
preprocess_case("tall_100x2000_b140", "tall_100x2000.png", 140)
save_png(pattern(160, 120, 5)[:, :, 1], os.path.join(OUT, "gray_160x120.png"), "L")
preprocess_case("gray_160x120_b70", "gray_160x120.png", 70)
rgba = np.concatenate([pattern(180, 140, 6), (np.mgrid[0:140, 0:180][1] * 255 // 179).astype(np.uint8)[..., None]], -1)
rgba[10:40, 10:40, 3] = 0  # fully transparent pixels keep their colour values
save_png(rgba, os.path.join(OUT, "rgba_180x140.png"), "RGBA")
preprocess_case("rgba_180x140_b70", "rgba_180x140.png", 70)
# a JPEG stored sideways with EXIF Orientation 6 (rotate 90 degrees clockwise to view)
exif = Image.Exif()
exif[0x0112] = 6
Image.fromarray(pattern(160, 96, 7)).save(os.path.join(OUT, "exif6_160x96.jpg"), quality=90, exif=exif.tobytes())
preprocess_case("exif6_160x96_b70", "exif6_160x96.jpg", 70)
# the large budgets on a small image (upscales; smooth so the expected PNGs stay small)
save_png(pattern(64, 48, 8), os.path.join(OUT, "small_64x48.png"))
preprocess_case("small_64x48_b560", "small_64x48.png", 560)
preprocess_case("small_64x48_b1120", "small_64x48.png", 1120)

# 3. decoders against PIL: every format and the conversions convert("RGB") does
base = pattern(61, 37, 9)
Image.fromarray(base).save(os.path.join(OUT, "decode_rgb24.bmp"))
Image.fromarray(base).convert("P", palette=Image.ADAPTIVE, colors=200).save(os.path.join(OUT, "decode_pal8.bmp"))
Image.fromarray(base).convert("1").save(os.path.join(OUT, "decode_mono.bmp"))
Image.fromarray(base).convert("RGBA").save(os.path.join(OUT, "decode_rgba32.bmp"))
Image.fromarray(base).convert("P", palette=Image.ADAPTIVE, colors=64).save(os.path.join(OUT, "decode_gif.gif"))
Image.fromarray(base).save(os.path.join(OUT, "decode_lossless.webp"), lossless=True)
Image.fromarray(np.concatenate([base, base[:, :, :1]], -1), "RGBA").save(os.path.join(OUT, "decode_lossy_alpha.webp"), quality=80)
Image.fromarray(base).save(os.path.join(OUT, "decode_q75.jpg"), quality=75)
Image.fromarray(base[:, :, 0]).save(os.path.join(OUT, "decode_gray.jpg"), quality=85)
Image.fromarray(base).convert("P", palette=Image.ADAPTIVE, colors=16).save(os.path.join(OUT, "decode_pal4.png"), bits=4)
Image.fromarray(base).convert("LA").save(os.path.join(OUT, "decode_gray_alpha.png"))
Image.fromarray(base).convert("CMYK").save(os.path.join(OUT, "decode_cmyk.jpg"), quality=90)
pal = Image.fromarray(base).convert("P", palette=Image.ADAPTIVE, colors=32)
pal.save(os.path.join(OUT, "decode_pal_trns.png"), transparency=3)  # tRNS on a palette: dropped
pal.save(os.path.join(OUT, "decode_gif_trns.gif"), transparency=3)
frames = [Image.fromarray(base), Image.fromarray(255 - base)]
frames[0].save(os.path.join(OUT, "decode_animated_gif.gif"), save_all=True, append_images=frames[1:], duration=100)
frames[0].save(os.path.join(OUT, "decode_animated_webp.webp"), save_all=True, append_images=frames[1:], duration=100,
               lossless=True)
for orientation in range(2, 9):
    e = Image.Exif()
    e[0x0112] = orientation
    Image.fromarray(base).save(os.path.join(OUT, f"decode_exif{orientation}.jpg"), quality=95, exif=e.tobytes())
for f in sorted(os.listdir(OUT)):
    if f.startswith("decode_") and not f.endswith(".rgb.png"):
        decode_case(f.rsplit(".", 1)[0], f)

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
