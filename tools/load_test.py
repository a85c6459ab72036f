#!/usr/bin/env python3
"""Bounded load test of `fastvlm-gpu serve` with the `openai` client.

Starts the server itself (so it can read its resident memory), sends one request, then runs
the same prompts one at a time and at the asked concurrency, each streamed (time to first
token from the first content chunk). Prints per phase: requests, failures, aggregate decode
tokens/s (all answer tokens over the phase's wall time), p50/p99 time to first token; then
the speed-up of the concurrent phase over the one-at-a-time phase, and host RSS and device
memory after the test against after the first request (must stay within 5%).

    tools/load_test.py --binary .build/release/fastvlm-gpu --model generated/fastvlm-0.5b-random \
        --image Tests/FastVLMTests/Fixtures/preprocess/photo.jpg --image-size 256
"""
import argparse
import base64
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai

PROMPTS = ["Describe the image.", "What is in the picture?", "Name the colours you see.", "Is it day or night?",
           "Count the objects.", "What is the weather like?", "Write a caption.", "What stands out?"]


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def metric(base, name):
    text = urllib.request.urlopen(base + "/metrics", timeout=30).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise SystemExit(f"/metrics has no {name}")


def one(client, model, image_uri, prompt, max_tokens):
    start = time.monotonic()
    first, tokens = None, 0
    stream = client.chat.completions.create(
        model=model, stream=True, stream_options={"include_usage": True}, max_tokens=max_tokens, temperature=0,
        messages=[{"role": "user", "content": [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": image_uri}}]}])
    for chunk in stream:
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
        if first is None and any(c.delta.content for c in chunk.choices):
            first = time.monotonic() - start
    return {"ttft": first if first is not None else time.monotonic() - start, "tokens": tokens}


def phase(client, model, image_uri, requests, concurrency, max_tokens):
    prompts = [PROMPTS[i % len(PROMPTS)] + f" ({i})" for i in range(requests)]
    results, failures = [], 0
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(one, client, model, image_uri, p, max_tokens) for p in prompts]
        for f in futures:
            try:
                results.append(f.result())
            except Exception as e:  # counted, and the first few shown
                failures += 1
                if failures <= 3:
                    print(f"  failure: {e}", file=sys.stderr)
    wall = time.monotonic() - start
    ttfts = sorted(r["ttft"] for r in results)
    tokens = sum(r["tokens"] for r in results)
    pct = lambda q: ttfts[min(len(ttfts) - 1, int(q * len(ttfts)))] if ttfts else float("nan")
    return {"requests": requests, "concurrency": concurrency, "failures": failures, "seconds": wall, "tokens": tokens,
            "tokens_per_second": tokens / wall, "ttft_p50": statistics.median(ttfts) if ttfts else float("nan"), "ttft_p99": pct(0.99)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=".build/release/fastvlm-gpu")
    p.add_argument("--model", default="generated/fastvlm-0.5b-random")
    p.add_argument("--image", default="Tests/FastVLMTests/Fixtures/preprocess/photo.jpg")
    p.add_argument("--image-size", default="256")
    p.add_argument("--requests", type=int, default=64)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--serial-requests", type=int, default=8, help="requests of the one-at-a-time phase")
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--context", default="1024")
    p.add_argument("--port", default="8093")
    p.add_argument("--extra", default="", help="more serve options, space-separated")
    args = p.parse_args()

    command = [args.binary, "serve", "--model", args.model, "--port", args.port, "--image-size", args.image_size,
               "--slots", str(min(8, args.concurrency)), "--context", args.context] + args.extra.split()
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"the server did not start: {line!r}")
        base = line.split()[-1]
        deadline = time.monotonic() + 900
        while True:
            try:
                if urllib.request.urlopen(base + "/health", timeout=5).status == 200:
                    break
            except Exception:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not load the model")
            time.sleep(1)
        client = openai.OpenAI(base_url=base + "/v1", api_key="none", max_retries=0, timeout=900)
        with open(args.image, "rb") as f:
            image_uri = "data:image/jpeg;base64," + base64.b64encode(f.read()).decode()

        one(client, args.model, image_uri, "Describe the image.", args.max_tokens)
        rss0, dev0 = rss_bytes(server.pid), metric(base, "fastvlm_device_memory_bytes")
        serial = phase(client, args.model, image_uri, args.serial_requests, 1, args.max_tokens)
        loaded = phase(client, args.model, image_uri, args.requests, args.concurrency, args.max_tokens)
        rss1, dev1 = rss_bytes(server.pid), metric(base, "fastvlm_device_memory_bytes")

        for name, r in [("concurrency 1", serial), (f"concurrency {args.concurrency}", loaded)]:
            print(f"{name}: {r['requests']} requests, {r['failures']} failed, {r['tokens']} tokens in {r['seconds']:.1f} s: "
                  f"{r['tokens_per_second']:.2f} tok/s aggregate, TTFT p50 {r['ttft_p50']:.3f} s p99 {r['ttft_p99']:.3f} s")
        speedup = loaded["tokens_per_second"] / serial["tokens_per_second"]
        print(f"aggregate speed-up at concurrency {args.concurrency} over 1: {speedup:.2f}x")
        rss_change, dev_change = (rss1 - rss0) / rss0, (dev1 - dev0) / dev0
        print(f"host RSS after first request {rss0 / 2**20:.1f} MiB, after the test {rss1 / 2**20:.1f} MiB ({100 * rss_change:+.1f}%)")
        print(f"device memory after first request {dev0 / 2**20:.1f} MiB, after the test {dev1 / 2**20:.1f} MiB ({100 * dev_change:+.1f}%)")
        print(json.dumps({"serial": serial, "concurrent": loaded, "speedup": speedup, "rss_change": rss_change, "device_change": dev_change}))
        ok = serial["failures"] == 0 and loaded["failures"] == 0 and abs(rss_change) <= 0.05 and abs(dev_change) <= 0.05
        sys.exit(0 if ok else 1)
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
