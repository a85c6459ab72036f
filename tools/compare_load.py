#!/usr/bin/env python3
"""Time to be ready for the first image: fastvlm-gpu against PyTorch, on one checkpoint, in one run.

  python3 tools/compare_load.py --model generated/fastvlm-0.5b-random-hf [--repeats 3]

PyTorch: `FastVlmForConditionalGeneration.from_pretrained` (bf16) plus
`AutoProcessor.from_pretrained` of the folder, each timed inside a fresh process after its
imports. fastvlm-gpu: the "loaded in" figure of `run` (model, tokenizer, device memory plan,
uploads and the recorded decode step; fp32 vision activations, since random full-size weights overflow fp16 maps). One warm-up of each first (page cache, pipeline and shader
caches), then the repeats; best and median are printed, with fastvlm-gpu's peak RSS and its peak
device memory.
"""
import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

TORCH = r'''
import sys, time
sys.path.insert(0, sys.argv[2])
import make_fixtures
torch = make_fixtures.import_torch()   # registers the torchvision op schemas timm's import needs
from transformers import AutoProcessor, FastVlmForConditionalGeneration
t = time.perf_counter()
FastVlmForConditionalGeneration.from_pretrained(sys.argv[1], torch_dtype=torch.bfloat16)
m = time.perf_counter() - t
t = time.perf_counter()
AutoProcessor.from_pretrained(sys.argv[1])
print(m, time.perf_counter() - t)
'''


def torch_once(model):
    out = subprocess.run([sys.executable, "-c", TORCH, model, str(Path(__file__).resolve().parent)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("PyTorch failed to load the model:\n" + out.stderr[-2000:])
    m, p = map(float, out.stdout.split()[-2:])
    return m + p


def ours_once(binary, model, image):
    out = subprocess.run(["/usr/bin/time", "-v", binary, "run", "--model", model, "--image", image, "--prompt", "Describe the image.",
                          "--max-tokens", "1", "--activations", "f32"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr[-2000:])
    load = float(re.search(r"loaded in ([0-9.]+)s", out.stderr).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) * 1024
    device = float(re.search(r"peak device memory ([0-9.]+) MiB", out.stderr).group(1)) * 1048576
    return load, rss, device


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--binary", default=".build/release/fastvlm-gpu")
    p.add_argument("--image", default=str(Path(__file__).resolve().parent.parent / "Tests/FastVLMTests/Fixtures/preprocess/photo.jpg"))
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch_once(args.model)
    ours_once(args.binary, args.model, args.image)
    torch_times, ours = [], []
    for _ in range(args.repeats):
        torch_times.append(torch_once(args.model))
        ours.append(ours_once(args.binary, args.model, args.image))
    loads = [o[0] for o in ours]
    print(f"PyTorch ready (model + processor): best {min(torch_times):.2f} s, median {statistics.median(torch_times):.2f} s")
    print(f"fastvlm-gpu loaded:                best {min(loads):.2f} s, median {statistics.median(loads):.2f} s "
          f"({statistics.median(loads) / statistics.median(torch_times):.2f}x PyTorch's median)")
    rss, dev = max(o[1] for o in ours), max(o[2] for o in ours)
    print(f"fastvlm-gpu peak RSS {rss / 2**30:.2f} GiB, peak device memory {dev / 2**30:.2f} GiB, "
          f"RSS over device memory {(rss - dev) / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
