#!/usr/bin/env python3
"""The PyTorch baseline of `fastvlm-gpu bench model`: transformers' FastVLM in a released
geometry with random weights, timed the same way, printed as JSON.

  python3 tools/torch_bench.py --size 0.5b [--image-size 1024] [--text-tokens 24]
                               [--decode-tokens 16] [--repetitions 3] [--warmups 1] [--dtype auto]

Random weights (the geometry is what costs time, not the values). On CUDA: bf16 and SDPA
attention; on a CPU: fp32 (CPU bf16 matrix products are emulated on most processors) and SDPA.
Figures, each the best and median of the repetitions after warm-ups:
  - "vision + projector": get_image_features (FastViTHD and the MLP projector);
  - "TTFT": one forward over the whole prompt (image included) and the argmax of the last row;
  - "decode per token": one step with the KV cache and the argmax, over --decode-tokens steps.
The prompt has --text-tokens text ids plus the (image_size / 64)^2 image positions, like
`bench model`. Exits non-zero with a reason if transformers' FastVLM cannot be built here.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures  # noqa: E402  (the geometry and the torch import helper live there)

VISION = dict(layers=(2, 12, 24, 4, 2), embed_dims=(96, 192, 384, 768, 1536))


def build(torch, size, image_size, device, dtype):
    spec = dict(make_fixtures.SIZES[size])
    vocab, tied = spec.pop("vocab"), spec.pop("tied")
    text = dict(spec, rope_theta=1000000.0, rms_norm_eps=1e-6, max_position_embeddings=32768)
    text["head_dim"] = text["hidden_size"] // text["num_attention_heads"]
    with torch.device("meta"):
        model = make_fixtures.build_model(torch, VISION, text, vocab, image_size, tied=tied)
    model.config._attn_implementation = "sdpa"
    model.config.text_config._attn_implementation = "sdpa"
    model = model.to_empty(device=device)
    g = torch.Generator(device=device).manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, 1 / p[0].numel() ** 0.5, generator=g)
            elif name.endswith("weight"):
                p.fill_(1)
            else:
                p.zero_()
        for name, b in model.named_buffers():
            if name.endswith("running_var"):
                b.fill_(1)
            elif name.endswith("running_mean"):
                b.zero_()
    # Buffers such as RoPE's inv_freq were left empty by to_empty: rebuild them on the device.
    for module in model.modules():
        if hasattr(module, "inv_freq") and hasattr(module, "rope_init_fn"):
            inv_freq, _ = module.rope_init_fn(module.config, device)
            module.inv_freq = inv_freq
            module.original_inv_freq = inv_freq
    return model.to(dtype).eval(), vocab


def timed(torch, device, fn):
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    out = fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t, out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(make_fixtures.SIZES), default="0.5b")
    p.add_argument("--image-size", type=int, default=1024)
    p.add_argument("--text-tokens", type=int, default=24)
    p.add_argument("--decode-tokens", type=int, default=16)
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--warmups", type=int, default=1)
    p.add_argument("--dtype", choices=["auto", "bfloat16", "float16", "float32"], default="auto")
    a = p.parse_args()
    if a.image_size <= 0 or a.image_size % 64:
        sys.exit("--image-size must be a positive multiple of 64")
    if min(a.text_tokens, a.decode_tokens, a.repetitions) < 1 or a.warmups < 0:
        sys.exit("--text-tokens, --decode-tokens and --repetitions must be at least 1, --warmups at least 0")

    torch = make_fixtures.import_torch()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype_name = a.dtype if a.dtype != "auto" else ("bfloat16" if device == "cuda" else "float32")
    dtype = getattr(torch, dtype_name)
    try:
        model, vocab = build(torch, a.size, a.image_size, device, dtype)
    except Exception as e:  # an older transformers without FastVLM, say
        sys.exit(f"could not build transformers' FastVLM {a.size}: {type(e).__name__}: {e}")

    image_rows = (a.image_size // 64) ** 2
    image_token = model.config.image_token_id if hasattr(model.config, "image_token_id") else model.config.image_token_index
    g = torch.Generator().manual_seed(1)
    text = torch.randint(0, min(vocab, 150000), (a.text_tokens,), generator=g)
    text = text[text != image_token]
    ids = torch.cat([text[:a.text_tokens // 2], torch.full((image_rows,), image_token), text[a.text_tokens // 2:]])
    ids = ids.view(1, -1).to(device)
    pixels = torch.rand((1, 3, a.image_size, a.image_size), generator=g).to(device, dtype)

    vision, ttft, decode = [], [], []
    with torch.inference_mode():
        for rep in range(a.warmups + a.repetitions):
            keep = rep >= a.warmups
            s, _ = timed(torch, device, lambda: model.get_image_features(pixel_values=pixels))
            s2, out = timed(torch, device, lambda: model(input_ids=ids, pixel_values=pixels, use_cache=True))
            past = out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            steps = []
            for _ in range(a.decode_tokens):
                def step():
                    o = model(input_ids=token, past_key_values=past, use_cache=True)
                    return o, o.logits[:, -1].argmax(-1, keepdim=True)
                s3, (o, token) = timed(torch, device, step)
                past = o.past_key_values
                steps.append(s3)
            if keep:
                vision.append(s)
                ttft.append(s2)
                decode.append(statistics.median(steps))

    def fig(values):
        ms = sorted(v * 1e3 for v in values)
        return {"best": ms[0], "median": ms[len(ms) // 2]}

    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    print(json.dumps({
        "engine": f"PyTorch {torch.__version__} transformers {__import__('transformers').__version__}",
        "device": name, "dtype": dtype_name, "attention": "sdpa", "size": a.size,
        "image_size": a.image_size, "prompt_tokens": int(ids.shape[1]), "repetitions": a.repetitions,
        "figures": {"vision + projector": fig(vision), "TTFT": fig(ttft), "decode per token": fig(decode)},
    }, indent=2))


if __name__ == "__main__":
    main()
