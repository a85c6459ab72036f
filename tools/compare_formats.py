#!/usr/bin/env python3
"""Accuracy and speed of each weight format against transformers in fp32, on one checkpoint.

  python3 tools/compare_formats.py --model generated/fastvlm-0.5b-random-hf [--formats bf16,f16,q8,q4] [--tokens 16]
                                   [--decoder-storage f32,f16]

The checkpoint must be in the transformers layout (tools/make_fixtures.py full --layout hf).
transformers runs the reference chat prompt on synthetic pixels in fp32 and decodes greedily
(over the real vocabulary); then `fastvlm-gpu profile` runs the same input once per format with
teacher forcing (--force-tokens: it is fed transformers' tokens, so its choice after every
prefix is scored even past a first difference). Printed per format: cosine and normalised max
error of the last-position logits (and the cosines of the vision features and projector rows the
engine dumped), the leading greedy tokens that match (equal to the run of
teacher-forced agreement from the start), teacher-forced top-1 agreement, decode tokens/s and
the bytes moved per decoded token as the profile counts them, and transformers' top-1 margin at
the first difference (a flip inside the format's logit noise is not an error of the kernels).
--decoder-storage f16 runs the language model with fp16 activation rows and KV cache, the residual
stream fp32 (a list
gives a row per format and storage). Extra
environment for the binary (a Vulkan driver, say) passes through.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402


def reference(args, workdir):
    torch = mf.import_torch()
    import numpy as np
    from transformers import AutoTokenizer, FastVlmForConditionalGeneration, LogitsProcessor, LogitsProcessorList
    model = FastVlmForConditionalGeneration.from_pretrained(args.model, torch_dtype=torch.float32, attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(args.model)
    image_id = model.config.image_token_index
    size = model.config.vision_config.image_size if hasattr(model.config.vision_config, "image_size") else 1024
    n_image = (size // 64) ** 2
    before, after = mf.chat_prompt(mf.PROMPT).split(mf.IMAGE_TOKEN)
    ids = tok.encode(before, add_special_tokens=False) + [image_id] * n_image + tok.encode(after, add_special_tokens=False)
    vocab = min(image_id, len(tok))   # the ids sampling may choose: below <image> and the padding rows
    pixels = mf.synthetic_pixels(torch, size)
    np.save(workdir / "pixel_values.npy", pixels.numpy())

    class RealVocabulary(LogitsProcessor):
        def __call__(self, input_ids, scores):
            scores[:, vocab:] = -float("inf")
            return scores

    with torch.no_grad():
        features = model.model.vision_tower(pixel_values=pixels).last_hidden_state.flatten(2).permute(0, 2, 1)
        projected = model.model.multi_modal_projector(features)
        out = model.generate(input_ids=torch.tensor([ids]), pixel_values=pixels, max_new_tokens=args.tokens, do_sample=False,
                             logits_processor=LogitsProcessorList([RealVocabulary()]), output_logits=True,
                             return_dict_in_generate=True, eos_token_id=None, pad_token_id=0)
    logits = out.logits[0][0].float().numpy()
    tokens = out.sequences[0, len(ids):].tolist()
    # Top-1 minus top-2 logit at every step: a flip where this is tiny is noise, not an error.
    margins = [float(t[0] - t[1]) for t in (torch.topk(step[0, :vocab].float(), 2).values for step in out.logits)]
    return logits, tokens, vocab, margins, features[0].numpy(), projected[0].numpy()


def engine(args, fmt, storage, tokens, workdir):
    dump = workdir / f"{fmt}-{storage}"
    dump.mkdir(exist_ok=True)
    cmd = [args.binary, "profile", "--model", args.model, "--pixel-values", str(workdir / "pixel_values.npy"),
           "--prompt", mf.PROMPT, "--weights", fmt, "--activations", args.activations, "--max-tokens", str(len(tokens)),
           "--force-tokens", ",".join(map(str, tokens)), "--dump", str(dump), "--top", "1", "--decoder-storage", storage]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{fmt} ({storage} decoder): fastvlm-gpu failed:\n{run.stderr[-2000:]}")
    import numpy as np
    speed = re.search(r"decode \d+ tokens at ([0-9.]+) tok/s", run.stderr)
    moved = re.search(r"== decode:.*\n.*per step \(\d+ steps\):[^,]*, [^,]*, ([0-9.]+) MB moved", run.stdout)
    return (np.load(dump / "logits_last.npy"), json.loads((dump / "token_ids.json").read_text()),
            float(speed.group(1)) if speed else float("nan"), float(moved.group(1)) if moved else float("nan"),
            np.load(dump / "vision_features.npy")[0], np.load(dump / "projector_out.npy")[0])


def cosine(a, b):
    import numpy as np
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--binary", default=".build/release/fastvlm-gpu")
    p.add_argument("--formats", default="bf16,f16,q8,q4")
    p.add_argument("--activations", default="f32")
    p.add_argument("--tokens", type=int, default=16)
    p.add_argument("--decoder-storage", default="f32", help="the language model's activation and KV-cache storage: f32, f16 or a list")
    args = p.parse_args()
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        golden, tokens, vocab, margins, features, projected = reference(args, workdir)
        golden = golden[:vocab]
        print(f"transformers fp32 greedy tokens: {tokens}")
        print("top-1 margins: " + " ".join(f"{m:.3g}" for m in margins))
        print(f"vision activations: {args.activations}")
        print(f"{'format':8}{'decoder':>8}{'vision':>10}{'project':>10}{'cosine':>10}{'nmax err':>10}{'greedy':>8}{'forced top-1':>14}{'tok/s':>8}{'MB/token':>10}")
        for fmt, storage in ((f, s) for f in args.formats.split(",") for s in args.decoder_storage.split(",")):
            logits, ours, speed, moved, our_features, our_projected = engine(args, fmt, storage, tokens, workdir)
            logits = logits[:vocab]
            cos = cosine(logits, golden)
            err = float(np.abs(logits - golden).max() / np.abs(golden).max())
            agree = [a == b for a, b in zip(ours, tokens)]
            leading = next((i for i, ok in enumerate(agree) if not ok), len(agree))
            print(f"{fmt:8}{storage:>8}{cosine(our_features, features):10.6f}{cosine(our_projected, projected):10.6f}{cos:10.6f}{err:10.2e}"
                  f"{leading:5d}/{len(tokens):<2}{sum(agree):8d}/{len(tokens):<5}{speed:8.2f}{moved:10.1f}"
                  + (f"   first difference at step {leading} (margin {margins[leading]:.3g})" if leading < len(tokens) else ""))


if __name__ == "__main__":
    main()
