#!/usr/bin/env python3
"""One table of the device check: fastvlm-gpu's `bench model --json` (ours-SIZE.json) beside
tools/torch_bench.py (torch-SIZE.json) from one results folder, with PyTorch / fastvlm-gpu
ratios (above 1: fastvlm-gpu is faster). Best and median of each side's repetitions.

  python3 tools/device_check_table.py RESULTS_DIR
"""
import json
import sys
from pathlib import Path

SIZE_ORDER = {"0.5b": 0, "1.5b": 1, "7b": 2}


def ours_figures(report):
    by_name = {f["name"]: f for f in report["figures"]}
    prefill = next(f for n, f in by_name.items() if n.startswith("prefill ("))
    vision, projector = by_name["vision encoder"], by_name["projector"]
    both = {k: vision[k] + projector[k] for k in ("best", "median")}
    return {"vision + projector": both, "prefill": prefill,
            "TTFT": by_name["TTFT (vision + projector + prefill)"], "decode per token": by_name["decode per token"]}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    sizes = sorted((p.stem[len("ours-"):] for p in out.glob("ours-*.json")), key=lambda s: SIZE_ORDER.get(s, 9))
    if not sizes:
        sys.exit(f"no bench results (ours-*.json) in {out}")
    rows = []
    header = None
    for size in sizes:
        ours = json.loads((out / f"ours-{size}.json").read_text())
        torch_path = out / f"torch-{size}.json"
        torch = json.loads(torch_path.read_text()) if torch_path.exists() else None
        if header is None:
            header = (f"fastvlm-gpu on {ours['device']} ({ours['weights']} weights, {ours['activations']} vision activations)"
                      + (f" | {torch['engine']} on {torch['device']} ({torch['dtype']}, {torch['attention']})" if torch else " | no PyTorch baseline")
                      + f" | image {ours['image_size']}x{ours['image_size']}, prompt {ours['prompt_tokens']} tokens, {ours['repetitions']} repetitions")
        mine = ours_figures(ours)
        for name, f in mine.items():
            t = torch["figures"].get(name) if torch else None
            ratio = lambda k: f"{t[k] / f[k]:.2f}x" if t and f[k] > 0 else "-"
            fmt = lambda v: f"{v:.1f}" if v is not None else "-"
            rows.append(f"| {size} | {name} (ms) | {fmt(f['best'])} | {fmt(f['median'])} | {fmt(t['best'] if t else None)} | "
                        f"{fmt(t['median'] if t else None)} | {ratio('best')} | {ratio('median')} |")
        dec = mine["decode per token"]
        tdec = torch["figures"]["decode per token"] if torch else None
        rows.append(f"| {size} | decode (tokens/s) | {1e3 / dec['best']:.1f} | {1e3 / dec['median']:.1f} | "
                    + (f"{1e3 / tdec['best']:.1f} | {1e3 / tdec['median']:.1f} |" if tdec else "- | - |") + " | |")
    print(header)
    print()
    print("| model | figure | fastvlm-gpu best | median | PyTorch best | median | PyTorch / ours (best) | (median) |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print("PyTorch has no separate prefill figure: its TTFT is one forward over the prompt with the image.")


if __name__ == "__main__":
    main()
