// The FastVLM model layer: checkpoints, tokenizer, images, prompts, CPU and GPU models.
//
// Entry points of the `FastVLM` library product:
// - `FastVLMEngine`: load a model once, then `answer(ChatRequest)` streams `ChatEvent`s
//   (`.started`, `.text`, `.finished`) for any number of concurrent requests, batched on the
//   GPU (what `fastvlm-gpu serve` runs).
// - `FastVLMPipeline`: one request at a time with timings, GPU profiles and dumps, on the GPU
//   or the CPU reference (what `fastvlm-gpu run`, `profile` and `bench` run); `ChatSession`
//   continues a conversation about one image over several turns (`fastvlm-gpu chat`).
