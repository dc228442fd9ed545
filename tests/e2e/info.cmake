# flowood info: parameter counts of the shipped experiments, every experiments/*.yaml parsed and
# validated (convention 13), and experiments/reference.yaml kept equal to the defaults
# (convention 5).
set(CONFIG_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/scripts)
set(CONFIG_DIFF bash ${CONFIG_SCRIPTS}/config_diff.sh)
# A config error or a crash after the expected text was printed still fails the test.
set(CONFIG_NO_ERROR "(^|\n)(error|internal error|terminate called)")

# The reference YAML is the binary's own output, byte for byte: regenerate it with
#   build/bin/flowood info --reference > experiments/reference.yaml
flowood_add_e2e_test(info.reference_is_current
  COMMAND ${CONFIG_DIFF} --file experiments/reference.yaml --vs ${FLOWOOD} info --reference)

# ...and it reads back as exactly the defaults.
flowood_add_e2e_test(info.reference_resolves_to_defaults
  COMMAND ${CONFIG_DIFF} ${FLOWOOD} info --resolved --vs ${FLOWOOD} info --config experiments/reference.yaml --resolved)

# Parameter counts of the authors' models (reference-spec §4.1).
flowood_add_e2e_test(info.parameters.fashionmnist_realnvp
  COMMAND ${FLOWOOD} info --config experiments/fashionmnist_realnvp.yaml
  PASS_REGEX "^experiment: fashionmnist_realnvp\n.*\nparameters: 14707336\n$"
  FAIL_REGEX "${CONFIG_NO_ERROR}")
flowood_add_e2e_test(info.parameters.celeba_realnvp
  COMMAND ${FLOWOOD} info --config experiments/celeba_realnvp.yaml
  PASS_REGEX "^experiment: celeba_realnvp\n.*\nparameters: 87859080\n$"
  FAIL_REGEX "${CONFIG_NO_ERROR}")
flowood_add_e2e_test(info.parameters.small_realnvp
  COMMAND ${FLOWOOD} info --config experiments/small_realnvp.yaml
  PASS_REGEX "^experiment: small_realnvp\n.*\nparameters: 1271048\n$"
  FAIL_REGEX "${CONFIG_NO_ERROR}")
# The defaults are the FashionMNIST model.
flowood_add_e2e_test(info.parameters.defaults
  COMMAND ${FLOWOOD} info
  PASS_REGEX "^experiment: experiment\n.*\nparameters: 14707336\n$"
  FAIL_REGEX "${CONFIG_NO_ERROR}")

# Precedence: defaults < YAML < --set. small_realnvp with the FashionMNIST widths set on the
# command line is the FashionMNIST model.
flowood_add_e2e_test(info.set_overrides_yaml
  COMMAND ${FLOWOOD} info --config experiments/small_realnvp.yaml --set model.num_blocks=6 --set model.mid_channels=64
  PASS_REGEX "^experiment: small_realnvp\n.*\nparameters: 14707336\n$"
  FAIL_REGEX "${CONFIG_NO_ERROR}")
# --resolved shows the three layers: lr from --set, num_blocks and batch_size from the YAML,
# log_every from the defaults.
flowood_add_e2e_test(info.resolved_precedence
  COMMAND ${FLOWOOD} info --config experiments/small_realnvp.yaml --set train.lr=0.5 --set data.ood=[svhn:test,cifar10:test] --resolved
  PASS_REGEX "\nmodel:\n(  [^\n]*\n)*  num_blocks: 2\n.*\n  ood: \\[svhn:test, cifar10:test\\]\n.*\ntrain:\n  optimizer: adam\n  lr: 0\\.5\n(  [^\n]*\n)*  batch_size: 64\n(  [^\n]*\n)*  log_every: 50\n"
  FAIL_REGEX "${CONFIG_NO_ERROR}")
# --set fixes a bad value in the YAML: validation sees the merged config.
flowood_add_e2e_test(info.set_fixes_yaml_value
  COMMAND ${FLOWOOD} info --config tests/data/configs/bad_range.yaml --set model.num_blocks=2 --resolved
  PASS_REGEX "\n  num_blocks: 2\n"
  FAIL_REGEX "${CONFIG_NO_ERROR}")
# A scalar where a list is expected is a list of one.
flowood_add_e2e_test(info.scalar_is_list_of_one
  COMMAND ${FLOWOOD} info --set data.ood=svhn:test --resolved
  PASS_REGEX "\n  ood: \\[svhn:test\\]\n"
  FAIL_REGEX "${CONFIG_NO_ERROR}")
# An empty file is the defaults.
flowood_add_e2e_test(info.empty_config_is_defaults
  COMMAND ${CONFIG_DIFF} ${FLOWOOD} info --resolved --vs ${FLOWOOD} info --config tests/data/configs/good_empty.yaml --resolved)
# Every non-default value survives the resolved YAML (what a run directory keeps) read back.
flowood_add_e2e_test(info.resolved_round_trip.all_keys
  COMMAND bash ${CONFIG_SCRIPTS}/config_round_trip.sh ${FLOWOOD} tests/data/configs/good_all_keys.yaml)

# Every experiment parses, validates and builds its model; its resolved YAML reads back to
# itself. New experiments get these tests at the next configure.
file(GLOB FLOWOOD_EXPERIMENTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/experiments/*.yaml)
foreach(experiment ${FLOWOOD_EXPERIMENTS})
  get_filename_component(stem ${experiment} NAME_WE)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${experiment})
  flowood_add_e2e_test(info.experiment.${stem}
    COMMAND ${FLOWOOD} info --config ${rel}
    PASS_REGEX "\nparameters: [1-9][0-9]*\n$"
    FAIL_REGEX "${CONFIG_NO_ERROR}")
  flowood_add_e2e_test(info.resolved_round_trip.${stem}
    COMMAND bash ${CONFIG_SCRIPTS}/config_round_trip.sh ${FLOWOOD} ${rel})
endforeach()

# docs/config.md's key tables are generated from info --reference and must be current.
flowood_add_e2e_test(info.docs_config_current
  COMMAND bash ${CONFIG_SCRIPTS}/config_docs.sh ${FLOWOOD} docs/config.md)
