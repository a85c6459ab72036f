#!/usr/bin/env python3
"""Times image preparation of one file in Pillow (Apple's pad-and-resize, transformers'
CLIPImageProcessor crop) and, with --fastvlm BIN, in fastvlm-gpu on the same file in the same run.

  python3 tools/time_preprocess.py big.jpg --size 1024 --fastvlm .build/release/fastvlm-gpu
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def apple_pil(path, size):
    """Apple's process_images with image_aspect_ratio pad: RGB, black square, bicubic, /255, CHW."""
    import numpy as np
    from PIL import Image
    image = Image.open(path).convert("RGB")
    w, h = image.size
    square = Image.new("RGB", (max(w, h), max(w, h)), (0, 0, 0))
    square.paste(image, (0, (w - h) // 2) if w > h else ((h - w) // 2, 0))
    return np.asarray(square.resize((size, size), Image.BICUBIC), dtype=np.float32).transpose(2, 0, 1) / 255


def hf_pil(processor):
    def run(path, size):
        from PIL import Image
        return processor(images=Image.open(path), return_tensors="np")["pixel_values"]
    return run


def median_seconds(fn, path, size, repetitions):
    fn(path, size)  # warm-up
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn(path, size)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--fastvlm", help="fastvlm-gpu binary (a release build) to time on the same file")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_fixtures import import_torch
    import_torch()  # the torchvision op schemas transformers' image processing needs
    from transformers import CLIPImageProcessor
    s = args.size
    processor = CLIPImageProcessor(size={"shortest_edge": s}, crop_size={"height": s, "width": s}, do_center_crop=True,
                                   image_mean=[0, 0, 0], image_std=[1, 1, 1], resample=3)
    rows = [("PIL apple (pad + resize)", median_seconds(apple_pil, args.image, s, args.repetitions)),
            ("PIL hf (CLIPImageProcessor)", median_seconds(hf_pil(processor), args.image, s, args.repetitions))]
    if args.fastvlm:
        for mode in ("apple", "hf"):
            out = subprocess.run([args.fastvlm, "bench", "resolutions", "--preparation-only", "--image", args.image, "--sizes", str(s),
                                  "--preprocess", mode, "--repetitions", str(args.repetitions), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            rows.append((f"fastvlm-gpu {mode}", json.loads(out)["rows"][0]["preparation_ms"] / 1e3))
    for name, seconds in rows:
        print(f"{name:32s} {seconds * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
