#!/usr/bin/env bash
# Builds one libFuzzer harness (Fuzz/harnesses/NAME.swift + the FastVLM sources it needs,
# compiled with -sanitize=fuzzer,address) and runs it for SECONDS on its seed corpus.
# Crashing inputs land in Fuzz/findings/; the exit status is non-zero on a crash.
#   tools/fuzz.sh NAME SECONDS [libFuzzer options...]      NAME: npy safetensors config tokenizer tokenizer-files image
#   tools/fuzz.sh list
set -euo pipefail
cd "$(dirname "$0")/.."
src=Sources/FastVLM
names="npy safetensors config tokenizer tokenizer-files image"

case "${1:-}" in
    list) echo "$names"; exit 0 ;;
    ""|-h|--help) sed -n '2,6p' "$0"; exit 64 ;;
esac
name=$1
seconds=${2:?give the number of seconds to fuzz}
shift 2

cflags=()
case "$name" in
    npy)             sources=("$src/IO/NPY.swift" "$src/IO/InputFile.swift") ;;
    safetensors)     sources=("$src/Checkpoint/Safetensors.swift" "$src/Checkpoint/CheckpointError.swift") ;;
    config)          sources=("$src"/Checkpoint/{ModelConfig,ConfigLimits,CheckpointError}.swift "$src/Model/Qwen2Config.swift") ;;
    tokenizer|tokenizer-files) sources=("$src"/Tokenizer/*.swift "$src"/Checkpoint/{CheckpointError,ConfigLimits}.swift) ;;
    image)           sources=("$src"/Image/*.swift "$src/IO/InputFile.swift") ;;
    *) echo "Error: unknown harness '$name' (one of: $names)" >&2; exit 64 ;;
esac

out=.build/fuzz
mkdir -p "$out/obj-$name" "$out/corpus/$name" Fuzz/findings
binary="$out/$name"
if [ "$name" = image ]; then
    # The C codecs instrumented too, behind a module map of their header.
    for c in Sources/CImageCodecs/*.c; do
        clang -O1 -g -fsanitize=fuzzer-no-link,address -ISources/CImageCodecs/include -c "$c" -o "$out/obj-$name/$(basename "$c" .c).o"
    done
    printf 'module CImageCodecs { header "%s" export * }\n' "$PWD/Sources/CImageCodecs/include/image_codecs.h" > "$out/obj-$name/module.modulemap"
    cflags=(-Xcc "-fmodule-map-file=$out/obj-$name/module.modulemap" "$out/obj-$name"/*.o -lpng16 -lturbojpeg)
fi
echo "=== fuzz $name: building"
swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name FastVLM \
    Fuzz/harnesses/FuzzSupport.swift "Fuzz/harnesses/$name.swift" "${sources[@]}" "${cflags[@]}" \
    -o "$binary" 2> "$out/$name.build.log" || { cat "$out/$name.build.log" >&2; exit 1; }

# Known leaks outside the harnessed code are suppressed by name (see the file).
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

echo "=== fuzz $name: $seconds s"
# The first corpus folder collects new inputs (outside the repository); the committed seeds are read only.
"$binary" "$out/corpus/$name" "Fuzz/corpus/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -max_len=65536 -artifact_prefix="Fuzz/findings/$name-" -print_final_stats=1 "$@"
