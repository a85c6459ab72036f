"""Client side of the server tests: talks to a running `fastvlm-gpu serve` with the real
`openai` package (and plain HTTP where the package cannot send what is tested, such as
malformed JSON). Prints one JSON object; the Swift tests compare it."""
import argparse
import base64
import json
import struct
import sys
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor

try:
    import openai
except ImportError:
    print(json.dumps({"missing": "openai"}))
    sys.exit(3)


def data_uri(path, extra=b""):
    with open(path, "rb") as f:
        data = f.read() + extra
    kind = "png" if data[:4] == b"\x89PNG" else "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


def messages(prompt, url):
    content = [{"type": "text", "text": prompt}]
    if url is not None:
        content.append({"type": "image_url", "image_url": {"url": url}})
    return [{"role": "user", "content": content}]


def client(args, key=None):
    return openai.OpenAI(base_url=args.base + "/v1", api_key=key if key is not None else args.key, max_retries=0, timeout=300)


def answer(args, prompt, stream, url=None, model=None, key=None, max_tokens=None):
    c = client(args, key)
    kwargs = dict(model=model or args.model, messages=messages(prompt, url if url is not None else data_uri(args.image)),
                  max_tokens=max_tokens or args.max_tokens, temperature=0)
    if not stream:
        r = c.chat.completions.create(**kwargs)
        return {"text": r.choices[0].message.content, "finish_reason": r.choices[0].finish_reason,
                "usage": {"prompt_tokens": r.usage.prompt_tokens, "completion_tokens": r.usage.completion_tokens}}
    text, finish, usage = "", None, None
    for chunk in c.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs):
        if chunk.usage is not None:
            usage = {"prompt_tokens": chunk.usage.prompt_tokens, "completion_tokens": chunk.usage.completion_tokens}
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    return {"text": text.strip(), "finish_reason": finish, "usage": usage}


def status_of(call):
    """The HTTP status a call ends with (200 when it succeeds)."""
    try:
        call()
        return 200
    except openai.APIStatusError as e:
        return e.status_code


def raw_post(args, body, key=""):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key or args.key}"
    request = urllib.request.Request(args.base + "/v1/chat/completions", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def huge_png():
    """A PNG whose header claims 40000 x 40000 pixels (above the decoder's limit)."""
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def errors(args):
    ok = lambda: answer(args, "Describe the image.", False)
    b64 = lambda data: "data:image/png;base64," + base64.b64encode(data).decode()
    out = {}
    out["malformed_json"], body = raw_post(args, b'{"model": "x", "messages": [')
    out["malformed_json_body"] = body
    out["bad_base64"] = status_of(lambda: answer(args, "Hi", False, url="data:image/png;base64,!!!not-base64!!!"))
    out["not_image"] = status_of(lambda: answer(args, "Hi", False, url=b64(b"hello, this is not an image")))
    out["huge_image"] = status_of(lambda: answer(args, "Hi", False, url=b64(huge_png())))
    out["over_context"] = status_of(lambda: answer(args, "word " * 4000, False))
    out["unknown_model"] = status_of(lambda: answer(args, "Hi", False, model="no-such-model"))
    out["wrong_key"] = status_of(lambda: answer(args, "Hi", False, key="wrong-key"))
    out["missing_key"], _ = raw_post(args, json.dumps({"model": args.model, "messages": messages("Hi", None)}).encode(), key=None)
    out["after"] = status_of(ok)
    return out


def disconnect(args):
    """A plain request whose client gives up after 0.3 s, long before its 470 tokens."""
    body = json.dumps({"model": args.model, "max_tokens": 470, "temperature": 0, "messages": messages("Describe the image.", data_uri(args.image))})
    request = urllib.request.Request(args.base + "/v1/chat/completions", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {args.key}"})
    try:
        urllib.request.urlopen(request, timeout=0.3).read()
        return {"gave_up": False}
    except Exception:
        return {"gave_up": True}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["answer", "concurrent", "sequential", "errors", "repeat", "disconnect"])
    p.add_argument("--base", required=True)
    p.add_argument("--key", default="none")
    p.add_argument("--model", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--prompt", action="append", default=[])
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--stream", action="store_true")
    args = p.parse_args()
    if args.command == "answer":
        result = answer(args, args.prompt[0], args.stream)
    elif args.command in ("sequential", "concurrent"):
        # Different lengths, so requests leave the batch at different steps.
        jobs = [(q, args.max_tokens + 3 * i) for i, q in enumerate(args.prompt)]
        run = lambda job: answer(args, job[0], False, max_tokens=job[1])
        if args.command == "sequential":
            result = [run(job) for job in jobs]
        else:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                result = list(pool.map(run, jobs))
    elif args.command == "repeat":
        # The same picture twice under a content hash no earlier request used (JPEG decoders
        # ignore bytes after the end marker).
        url = data_uri(args.image, extra=b"\0" + base64.b16encode(__import__("os").urandom(8)))
        result = [answer(args, q, False, url=url) for q in args.prompt]
    elif args.command == "disconnect":
        result = disconnect(args)
    else:
        result = errors(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
