// The FastVLM model layer: checkpoints, tokenizer, images, prompts, CPU and GPU models.
