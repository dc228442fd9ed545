# Config errors through the real binary: each must exit with status 1 and print exactly the
# expected message, naming the file and line (or --set) and the key (convention 4). Fixtures are
# in tests/data/configs/; paths are relative to the source tree, the tests' working directory.

# flowood_config_error_test(NAME ARGS <flowood args...> EXPECT <line>... [EXPECT_REGEX <re>])
# EXPECT lines are literal and must appear consecutively, each a whole line; the first is
# prefixed with "error: " (main's one-line format). EXPECT_REGEX is a raw regex instead. The
# wrapper script prints a FAILED line when the exit status is not 1, which fails the test even
# though the message matched.
function(flowood_config_error_test name)
  cmake_parse_arguments(C "" "EXPECT_REGEX" "ARGS;EXPECT" ${ARGN})
  if(C_EXPECT_REGEX)
    set(re "${C_EXPECT_REGEX}")
  else()
    set(re "")
    set(first TRUE)
    foreach(line ${C_EXPECT})
      string(REGEX REPLACE "([][.*+?^$()|\\])" "\\\\\\1" escaped "${line}")
      if(first)
        set(re "(^|\n)error: ${escaped}\n")
        set(first FALSE)
      else()
        string(APPEND re "${escaped}\n")
      endif()
    endforeach()
  endif()
  flowood_add_e2e_test(config_error.${name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/config_expect_error.sh 1 ${FLOWOOD} ${C_ARGS}
    PASS_REGEX "${re}"
    FAIL_REGEX "config_expect_error: FAILED"
    LABELS badinput)
endfunction()

set(CFG tests/data/configs)

# Unknown keys name file, line and key, and suggest the close one.
flowood_config_error_test(unknown_key
  ARGS info --config ${CFG}/bad_key.yaml
  EXPECT "${CFG}/bad_key.yaml:4: unknown key 'model.num_block' (did you mean 'model.num_blocks'?)")
# Out of range: the validate() message after file:line and key.
flowood_config_error_test(out_of_range
  ARGS info --config ${CFG}/bad_range.yaml
  EXPECT "${CFG}/bad_range.yaml:5: model.num_blocks must be >= 1 (got 0)")
# Wrong types name the key and the expected type.
flowood_config_error_test(wrong_type
  ARGS info --config ${CFG}/bad_type.yaml
  EXPECT "${CFG}/bad_type.yaml:4: model.num_blocks must be an integer")
flowood_config_error_test(wrong_type_list
  ARGS info --config ${CFG}/bad_type_list.yaml
  EXPECT "${CFG}/bad_type_list.yaml:3: model.in_shape must be a list of integers"
         "${CFG}/bad_type_list.yaml:4: model.batch_norm must be true or false"
         "${CFG}/bad_type_list.yaml:6: train.lr must be a number")
# Every problem of a file is reported, not only the first.
flowood_config_error_test(many_problems
  ARGS info --config ${CFG}/bad_many.yaml
  EXPECT "${CFG}/bad_many.yaml:4: model.num_blocks must be >= 1 (got 0)"
         "${CFG}/bad_many.yaml:5: model.mid_channels must be >= 1 (got -1)"
         "${CFG}/bad_many.yaml:7: train.lr must be > 0 (got -1)"
         "${CFG}/bad_many.yaml:8: train.batch_size must be >= 1 (got 0)"
         "${CFG}/bad_many.yaml:10: histogram.bins must be >= 1 (got 0)")
flowood_config_error_test(many_read_problems
  ARGS info --config ${CFG}/bad_mixed.yaml
  EXPECT "${CFG}/bad_mixed.yaml:3: model.num_blocks must be an integer"
         "${CFG}/bad_mixed.yaml:4: unknown key 'model.mid_channel' (did you mean 'model.mid_channels'?)"
         "${CFG}/bad_mixed.yaml:6: unknown key 'train.learning_rate'")
# A rule across keys is reported at the line of the key it names.
flowood_config_error_test(scales_vs_shape
  ARGS info --config ${CFG}/bad_scales.yaml
  EXPECT_REGEX "(^|\n)error: ${CFG}/bad_scales\\.yaml:5: model\\.num_scales [^\n]*divisible by 8 [^\n]*\\[1, 28, 28\\]")
# Not YAML / not a mapping / no file.
flowood_config_error_test(yaml_syntax
  ARGS info --config ${CFG}/bad_syntax.yaml
  EXPECT_REGEX "(^|\n)error: ${CFG}/bad_syntax\\.yaml:5: YAML syntax error: [^\n]+\n$")
flowood_config_error_test(not_a_mapping
  ARGS info --config ${CFG}/bad_not_map.yaml
  EXPECT "${CFG}/bad_not_map.yaml:1: the config must be a mapping of keys")
flowood_config_error_test(missing_file
  ARGS info --config ${CFG}/does_not_exist.yaml
  EXPECT "${CFG}/does_not_exist.yaml: no such config file")
flowood_config_error_test(config_is_directory
  ARGS info --config ${CFG}
  EXPECT "${CFG}: no such config file")

# --set: the problem is located at --set and names the key.
flowood_config_error_test(set_out_of_range
  ARGS info --set model.num_blocks=0
  EXPECT "--set: model.num_blocks must be >= 1 (got 0)")
flowood_config_error_test(set_out_of_range_over_yaml
  ARGS info --config experiments/small_realnvp.yaml --set train.lr=-1
  EXPECT "--set: train.lr must be > 0 (got -1)")
flowood_config_error_test(set_unknown_key
  ARGS info --set nope=1
  EXPECT_REGEX "(^|\n)error: --set: unknown key 'nope'[^\n]*\n$")
flowood_config_error_test(set_unknown_key_suggests
  ARGS info --set model.num_block=2
  EXPECT "--set: unknown key 'model.num_block' (did you mean 'model.num_blocks'?)")
flowood_config_error_test(set_wrong_type
  ARGS info --set train.lr=abc
  EXPECT "--set train.lr: must be a number")
flowood_config_error_test(set_without_value
  ARGS info --set model.num_blocks
  EXPECT "--set model.num_blocks: expected key.path=value")
flowood_config_error_test(set_many
  ARGS info --set nope=1 --set train.lr=abc
  EXPECT "--set: unknown key 'nope' (did you mean 'name'?)"
         "--set train.lr: must be a number")
# A cross-key problem in a key nobody set is located at the file (no line), or at "(defaults)".
flowood_config_error_test(validate_key_not_in_file
  ARGS info --config ${CFG}/bad_shape.yaml
  EXPECT_REGEX "(^|\n)error: ${CFG}/bad_shape\\.yaml: model\\.num_scales [^\n]*divisible by 2 [^\n]*\\[1, 27, 27\\]\\)\n$")
flowood_config_error_test(validate_key_not_set
  ARGS info --set model.in_shape=[1,27,27]
  EXPECT_REGEX "(^|\n)error: \\(defaults\\): model\\.num_scales [^\n]*divisible by 2 [^\n]*\\[1, 27, 27\\]\\)\n$")

# Reader gaps found while writing these tests; they pass once the reader fixes land
# (the helper's report to the lead has the patch).
flowood_config_error_test(unknown_section
  ARGS info --config ${CFG}/bad_section.yaml
  EXPECT "${CFG}/bad_section.yaml:3: unknown key 'modle' (did you mean 'model'?)")
flowood_config_error_test(duplicate_key
  ARGS info --config ${CFG}/bad_duplicate.yaml
  EXPECT "${CFG}/bad_duplicate.yaml:5: duplicate key 'model.num_blocks' (first on line 3)")
flowood_config_error_test(section_not_a_mapping
  ARGS info --config ${CFG}/bad_section_scalar.yaml
  EXPECT "${CFG}/bad_section_scalar.yaml:2: model must be a mapping of keys")
flowood_config_error_test(non_scalar_key
  ARGS info --config ${CFG}/bad_key_not_scalar.yaml
  EXPECT "${CFG}/bad_key_not_scalar.yaml:2: keys must be plain names")
# 2^(num_scales - 1) overflowed int64: 64 scales asked for "divisible by -9223372036854775808"
# and 65 passed validation (shift by 64).
flowood_config_error_test(huge_num_scales
  ARGS info --set model.num_scales=64
  EXPECT_REGEX "(^|\n)error: --set: model\\.num_scales 64 [^-\n]*\n$")
flowood_config_error_test(huge_num_scales_wrapping
  ARGS info --set model.num_scales=65
  EXPECT_REGEX "(^|\n)error: --set: model\\.num_scales 65 [^-\n]*\n$")
