#!/usr/bin/env bash
# Soak: 200 generations in one process with the tiny fixture model (new images, chat turns,
# resets, chats run into a small context), reporting host RSS and device memory; fails when
# either grows by more than 2% after warm-up or when the context refusal misbehaves.
#   tools/soak.sh [extra fastvlm-gpu soak options, e.g. --backend cpu --generations 400]
set -euo pipefail
cd "$(dirname "$0")/.."
config=${SOAK_CONFIG:-release}
swift build -c "$config" --product fastvlm-gpu
fixtures=Tests/FastVLMTests/Fixtures
images=()
for f in "$fixtures"/preprocess/*.png "$fixtures"/preprocess/*.jpg; do images+=(--image "$f"); done
exec ".build/$config/fastvlm-gpu" soak --model "$fixtures/tiny-apple" "${images[@]}" \
    --generations 200 --warmup 20 --context 128 --max-tokens 8 "$@"
