#!/usr/bin/env bash
# The device check: what to run first on a new GPU, in one command, with PyTorch as the baseline.
#
#   tools/device-check.sh            # pack, then run here (what CI-less machines and this repo's tests do)
#   tools/device-check.sh pack [DIR] # a self-contained build in DIR (default dist/device-check)
#   tools/device-check.sh run [DIR]  # on the target: run the packed build from DIR
#
# `pack` builds the release binary (and DIR.tar.gz, the one file to carry to a target) with the Swift runtime linked in statically and copies the shared
# libraries it needs (libpng, libturbojpeg, curl, the Vulkan loader, ...) beside it; `run` uses a
# packed library only where the target has none of that name, so a target that lacks the Vulkan
# loader still runs. `run` prints `devices`, runs `selftest` (every kernel variant against the CPU
# reference), `bench ops`, and for each model size `bench model` on random weights in the released
# geometry and the same geometry in PyTorch transformers (tools/torch_bench.py: bf16 + SDPA on CUDA,
# fp32 on a CPU), then one table of both with their ratios. Figures and logs go to
# $DEVICE_CHECK_OUT (default: DIR/results). It exits non-zero if selftest or a benchmark fails.
#
# Settings (environment): DEVICE_CHECK_SIZES (default "0.5b 1.5b 7b" on a GPU, "0.5b" on a CPU
# device such as lavapipe), DEVICE_CHECK_IMAGE_SIZE (1024 on a GPU, 256 on a CPU device),
# DEVICE_CHECK_REPETITIONS (3 on a GPU, 1 on a CPU device), DEVICE_CHECK_DECODE_TOKENS (16 / 4),
# DEVICE_CHECK_KERNELS (auto), DEVICE_CHECK_NO_TORCH=1 to skip the baseline. A size whose
# weights do not fit the device is refused by the memory plan and listed as such, not failed.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-all}"
dir="${2:-$here/dist/device-check}"

pack() {
    set -e
    cd "$here"
    echo "=== pack: swift build -c release --static-swift-stdlib"
    # The static Foundation's URLSession (hub downloads) calls libcurl, which stays a shared library.
    local curl
    curl="$(ldconfig -p | awk '/libcurl\.so\.4 /{p=$NF} END{print p}')"
    [ -n "$curl" ] || { echo "pack needs libcurl.so.4 (apt-get install libcurl4)" >&2; return 1; }
    # Its -lcurl wants the unversioned name, which only the -dev package installs: link one.
    mkdir -p .build/curl-link && ln -sf "$curl" .build/curl-link/libcurl.so
    swift build -c release --static-swift-stdlib --product fastvlm-gpu -Xlinker -L"$here/.build/curl-link"
    rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib" "$dir/tools"
    cp .build/release/fastvlm-gpu "$dir/bin/"
    strip "$dir/bin/fastvlm-gpu" 2>/dev/null || true
    # Every shared library the binary loads, except the C runtime every Linux has; the loader is
    # opened with dlopen, so it is looked up by name.
    { ldd .build/release/fastvlm-gpu | awk '/=> \//{print $3}'
      ldconfig -p | awk '/libvulkan\.so\.1 /{p=$NF} END{if (p) print p}'; } | sort -u | while read -r lib; do
        case "$(basename "$lib")" in
            libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libgcc_s.so*|libstdc++.so*) ;;
            *) cp -L "$lib" "$dir/lib/" ;;
        esac
    done
    cp tools/device-check.sh tools/torch_bench.py tools/device_check_table.py tools/make_fixtures.py "$dir/tools/"
    # One archive to carry to the target (the unpacked folder is larger than some transfers allow).
    tar -C "$(dirname "$dir")" -czf "$dir.tar.gz" "$(basename "$dir")"
    echo "packed into $dir ($(du -sh "$dir" | cut -f1)) and $dir.tar.gz ($(du -sh "$dir.tar.gz" | cut -f1)); libraries: $(ls "$dir/lib" | tr '\n' ' ')"
    set +e
}

run() {
    local bin="$dir/bin/fastvlm-gpu" out="${DEVICE_CHECK_OUT:-$dir/results}" failed=""
    if [ ! -x "$bin" ] && [ -f "$dir.tar.gz" ]; then tar -C "$(dirname "$dir")" -xzf "$dir.tar.gz"; fi
    [ -x "$bin" ] || { echo "no packed binary at $bin (nor $dir.tar.gz): run 'tools/device-check.sh pack' first" >&2; exit 2; }
    mkdir -p "$out" "$dir/lib-used"
    # Packed libraries only where the target has none of that name.
    rm -f "$dir/lib-used/"*
    for lib in "$dir/lib/"*; do
        [ -e "$lib" ] || continue
        name="$(basename "$lib")"
        ldconfig -p | grep -q " $name " || ln -sf "$lib" "$dir/lib-used/$name"
    done
    export LD_LIBRARY_PATH="$dir/lib-used${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    [ -n "$(ls "$dir/lib-used")" ] && echo "using packed libraries: $(ls "$dir/lib-used" | tr '\n' ' ')"
    # NVIDIA containers keep the driver's ICD outside the loader's default search path.
    local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi

    echo "=== devices"
    "$bin" devices | tee "$out/devices.txt" || { echo "no Vulkan device: stopping"; exit 1; }
    "$bin" devices --json > "$out/devices.json"
    local cpu=0
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d and d[0].get("type")=="cpu" else 1)' "$out/devices.json" && cpu=1
    local sizes image reps decode kernels="${DEVICE_CHECK_KERNELS:-auto}"
    if [ $cpu = 1 ]; then sizes="${DEVICE_CHECK_SIZES:-0.5b}"; image="${DEVICE_CHECK_IMAGE_SIZE:-256}"; reps="${DEVICE_CHECK_REPETITIONS:-1}"; decode="${DEVICE_CHECK_DECODE_TOKENS:-4}"
    else sizes="${DEVICE_CHECK_SIZES:-0.5b 1.5b 7b}"; image="${DEVICE_CHECK_IMAGE_SIZE:-1024}"; reps="${DEVICE_CHECK_REPETITIONS:-3}"; decode="${DEVICE_CHECK_DECODE_TOKENS:-16}"; fi

    echo "=== selftest --kernels $kernels"
    "$bin" selftest --kernels "$kernels" 2>&1 | tee "$out/selftest.txt"
    [ "${PIPESTATUS[0]}" = 0 ] || failed="$failed selftest"

    echo "=== bench ops"
    "$bin" bench ops --repeats 3 --no-cpu --kernels "$kernels" 2>&1 | tee "$out/bench-ops.txt"
    [ "${PIPESTATUS[0]}" = 0 ] || failed="$failed bench-ops"

    for size in $sizes; do
        echo "=== bench model synthetic-$size (image ${image}x$image, $reps repetitions)"
        "$bin" bench model --model "synthetic-$size" --image-size "$image" --repetitions "$reps" --warmups 1 \
            --decode-tokens "$decode" --kernels "$kernels" --json > "$out/ours-$size.json" 2> "$out/ours-$size.log"
        local rc=$?
        tail -n 3 "$out/ours-$size.log"
        if [ $rc != 0 ]; then
            if grep -qE "does not fit|MiB of device memory with" "$out/ours-$size.log"; then echo "synthetic-$size does not fit this device: skipped"; rm -f "$out/ours-$size.json"; continue; fi
            failed="$failed bench-$size"; rm -f "$out/ours-$size.json"; continue
        fi
        if [ "${DEVICE_CHECK_NO_TORCH:-0}" != 1 ]; then
            echo "=== PyTorch baseline $size"
            python3 "$dir/tools/torch_bench.py" --size "$size" --image-size "$image" --repetitions "$reps" --warmups 1 \
                --decode-tokens "$decode" > "$out/torch-$size.json" 2> "$out/torch-$size.log" \
                || { tail -n 5 "$out/torch-$size.log"; echo "PyTorch baseline $size failed (see $out/torch-$size.log)"; rm -f "$out/torch-$size.json"; }
        fi
    done

    echo "=== device check: fastvlm-gpu against PyTorch, same geometry, same run"
    python3 "$dir/tools/device_check_table.py" "$out" | tee "$out/table.md"
    if [ -n "$failed" ]; then echo "device check FAILED:$failed"; exit 1; fi
    echo "device check passed"
}

case "$mode" in
    pack) pack ;;
    run) run ;;
    all) pack && run ;;
    *) echo "usage: tools/device-check.sh [pack|run|all] [DIR]" >&2; exit 2 ;;
esac
