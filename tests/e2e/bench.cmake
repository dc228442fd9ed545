# flowood bench: the built-in models' parameter counts and FLOPs (no timing), a tiny model timed
# for two steps with its JSON (fp32 and bf16), the machine probes alone, and the errors caught
# before any work.
set(BENCH_DIR ${E2E_WORK}/bench)
file(MAKE_DIRECTORY ${BENCH_DIR})
set(BENCH_FAIL sh ${CMAKE_CURRENT_SOURCE_DIR}/scripts/expect_failure.sh)
set(BENCH_NO_ERROR "(^|\n)(error|internal error|terminate called)|MISMATCH")
# Runs the rest of the command line with --json FILE appended, then prints FILE.
# (No semicolons in the script: it passes through a CMake list.)
set(BENCH_WITH_JSON sh -c [=[out=$1 && shift && rm -f "$out" && "$@" --json "$out" && cat "$out"]=] bench_json)
# A tiny RealNVP on 1×8×8 (the defaults with --set), one thread.
set(BENCH_TINY --config tests/data/configs/good_empty.yaml --set threads=1 --set name=tiny
    --set model.in_shape=[1,8,8] --set model.num_blocks=1 --set model.mid_channels=4
    --set train.batch_size=8 --set score.batch_size=16)

# Every built-in model has the reference's parameter count; the RealNVPs' FLOPs per image are
# reference-cpu.md's 7.406 and 0.636 GFLOP.
flowood_add_e2e_test(bench.builtins_count_only
  COMMAND ${FLOWOOD} bench --builtin all --count-only --set threads=1
  PASS_REGEX "\nfashionmnist_realnvp [^\n]* 14,707,336 +14,707,336 +ok +7\\.406 .*\nsmall_realnvp [^\n]* 1,271,048 +1,271,048 +ok +0\\.636 .*\nbottleneck_l50 [^\n]* 46,744,316 +46,744,316 +ok .*\nfashionmnist_glow [^\n]* 69,378,048 +69,378,048 +ok .*\nceleba_realnvp [^\n]* 87,859,080 +87,859,080 +ok "
  FAIL_REGEX "${BENCH_NO_ERROR}"
  TIMEOUT 300)

# Two timed training steps and a timed scoring batch of the tiny model; the JSON has both rates > 0.
flowood_add_e2e_test(bench.tiny_json
  COMMAND ${BENCH_WITH_JSON} ${BENCH_DIR}/tiny.json ${FLOWOOD} bench ${BENCH_TINY}
          --steps 2 --warmup 1 --score-steps 1 --score-warmup 1 --no-probe
  PASS_REGEX "\n  \"train_images_per_s\": ([1-9]|0\\.[0-9]*[1-9]).*\n  \"score_images_per_s\": ([1-9]|0\\.[0-9]*[1-9]).*\n  \"threads\": 1,\n.*\n  \"precision\": \"fp32\",\n"
  FAIL_REGEX "${BENCH_NO_ERROR}"
  TIMEOUT 300)

# layout auto: the first run measures the tiny model's convolutions for each phase and caches the
# answer; the second reads the cache. --set layout=nchw pins it, and the JSON says so.
flowood_add_e2e_test(bench.layout_measured_then_cached
  COMMAND sh -c [=[d=$1 && shift && rm -rf "$d" && FLOWOOD_CACHE="$d" "$@" >/dev/null 2>&1 && FLOWOOD_CACHE="$d" "$@"]=]
          bench_layout ${BENCH_DIR}/layout_cache ${FLOWOOD} bench ${BENCH_TINY}
          --steps 1 --warmup 0 --score-steps 1 --score-warmup 0 --no-probe
  PASS_REGEX "\nlayout of tiny train: (nchw|channels-last) \\(cached: [^\n]* ms NCHW, [^\n]* ms channels-last per batch\\)\nlayout of tiny score: (nchw|channels-last) \\(cached: "
  FAIL_REGEX "${BENCH_NO_ERROR}"
  TIMEOUT 300)
flowood_add_e2e_test(bench.layout_pinned
  COMMAND ${BENCH_WITH_JSON} ${BENCH_DIR}/tiny_nchw.json ${FLOWOOD} bench ${BENCH_TINY} --set layout=nchw
          --steps 1 --warmup 0 --score-steps 1 --score-warmup 0 --no-probe
  PASS_REGEX "\n  \"train_layout\": {\n    \"layout\": \"nchw\",\n    \"source\": \"config\","
  FAIL_REGEX "${BENCH_NO_ERROR}"
  TIMEOUT 300)

# --plain: scoring without inference folding; the JSON and the header say so.
flowood_add_e2e_test(bench.tiny_plain
  COMMAND ${BENCH_WITH_JSON} ${BENCH_DIR}/tiny_plain.json ${FLOWOOD} bench ${BENCH_TINY} --plain
          --steps 1 --warmup 0 --score-steps 1 --score-warmup 0 --no-probe
  PASS_REGEX "inference folding off, precision fp32.*\n  \"score_images_per_s\": ([1-9]|0\\.[0-9]*[1-9]).*\n  \"allocator\": \"system\",\n  \"inference_folding\": false,\n"
  FAIL_REGEX "${BENCH_NO_ERROR}"
  TIMEOUT 300)

# The machine probes alone: convolution peak and matmul rate.
flowood_add_e2e_test(bench.probe_only
  COMMAND ${BENCH_WITH_JSON} ${BENCH_DIR}/probe.json ${FLOWOOD} bench --probe-only --set threads=1
  PASS_REGEX "\n    \"conv_peak_gflops\": [1-9].*\n    \"matmul_fp32_gflops\": [1-9]"
  FAIL_REGEX "${BENCH_NO_ERROR}"
  TIMEOUT 300)

# bf16 st-networks: on a CPU with AVX-512 the tiny model runs and the JSON says so; without it,
# bf16 is refused before any work (it would be tens of times slower than fp32). This machine's
# flags decide which test exists.
file(STRINGS /proc/cpuinfo FLOWOOD_CPU_FLAGS REGEX "^flags" LIMIT_COUNT 1)
if(FLOWOOD_CPU_FLAGS MATCHES " avx512bw" AND FLOWOOD_CPU_FLAGS MATCHES " avx512vl" AND FLOWOOD_CPU_FLAGS MATCHES " avx512dq")
  flowood_add_e2e_test(bench.tiny_bf16
    COMMAND ${BENCH_WITH_JSON} ${BENCH_DIR}/tiny_bf16.json ${FLOWOOD} bench ${BENCH_TINY} --precision bf16
            --steps 1 --warmup 1 --score-steps 1 --score-warmup 0 --no-probe
    PASS_REGEX "\n  \"train_images_per_s\": ([1-9]|0\\.[0-9]*[1-9]).*\n  \"score_images_per_s\": ([1-9]|0\\.[0-9]*[1-9]).*\n  \"precision\": \"bf16\",\n"
    FAIL_REGEX "${BENCH_NO_ERROR}"
    TIMEOUT 300)
else()
  flowood_add_e2e_test(bench.bf16_refused_without_avx512
    COMMAND ${BENCH_FAIL} --absent ${BENCH_DIR}/refused.json "--precision" "bf16 needs a CPU with AVX-512" --
            ${FLOWOOD} bench ${BENCH_TINY} --precision bf16 --no-probe --json ${BENCH_DIR}/refused.json)
endif()

# --contend 1: one busy-looping competitor during the timings; the JSON records it.
flowood_add_e2e_test(bench.tiny_contend
  COMMAND ${BENCH_WITH_JSON} ${BENCH_DIR}/tiny_contend.json ${FLOWOOD} bench ${BENCH_TINY} --contend 1
          --steps 1 --warmup 0 --score-steps 1 --score-warmup 0 --no-probe
  PASS_REGEX "1 busy-looping competitor.*\n  \"score_images_per_s\": ([1-9]|0\\.[0-9]*[1-9]).*\n  \"competitors\": 1,\n"
  FAIL_REGEX "${BENCH_NO_ERROR}"
  TIMEOUT 300)

# Errors before any work, one line each, no JSON written.
flowood_add_e2e_test(bench.unknown_builtin
  COMMAND ${BENCH_FAIL} "--builtin" "unknown built-in 'nope'" "small_realnvp" --
          ${FLOWOOD} bench --builtin nope)
flowood_add_e2e_test(bench.needs_a_model
  COMMAND ${BENCH_FAIL} "--config" "--builtin NAME|all" -- ${FLOWOOD} bench)
flowood_add_e2e_test(bench.json_dir_missing
  COMMAND ${BENCH_FAIL} "${BENCH_DIR}/no_such_dir" "--json" "does not exist" --
          ${FLOWOOD} bench ${BENCH_TINY} --json ${BENCH_DIR}/no_such_dir/b.json)
