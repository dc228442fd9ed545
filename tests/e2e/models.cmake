# Models (masks, coupling stacks, bottleneck st-nets, Glow; after config_errors.cmake, whose helper it uses): flowood info prints
# the reference parameter counts, and mask problems are reported naming file, line and entry.
set(ARCH_NO_ERROR "(^|\n)(error|internal error|terminate called)")

foreach(arm checkerboard horizontal cycle)
  flowood_add_e2e_test(info.parameters.masks_${arm}
    COMMAND ${FLOWOOD} info --config experiments/masks_${arm}.yaml
    PASS_REGEX "\nparameters: 3809344\n$"
    FAIL_REGEX "${ARCH_NO_ERROR}")
endforeach()
foreach(pair "10;20652396" "50;46744316" "100;79359216")
  list(GET pair 0 l)
  list(GET pair 1 count)
  flowood_add_e2e_test(info.parameters.bottleneck_l${l}
    COMMAND ${FLOWOOD} info --config experiments/bottleneck_l${l}.yaml
    PASS_REGEX "\nparameters: ${count}\n$"
    FAIL_REGEX "${ARCH_NO_ERROR}")
endforeach()
flowood_add_e2e_test(info.parameters.fashionmnist_glow
  COMMAND ${FLOWOOD} info --config experiments/fashionmnist_glow.yaml
  PASS_REGEX "\nparameters: 69378048\n$"
  FAIL_REGEX "${ARCH_NO_ERROR}")
flowood_add_e2e_test(info.parameters.celeba_glow
  COMMAND ${FLOWOOD} info --config experiments/celeba_glow.yaml
  PASS_REGEX "\nparameters: 208932480\n$"
  FAIL_REGEX "${ARCH_NO_ERROR}")
# The same models from --set on the defaults: the keys work on the command line too.
flowood_add_e2e_test(info.parameters.cycle_from_set
  COMMAND ${FLOWOOD} info --set model.flow=coupling --set "model.masks=[cycle x2]"
  PASS_REGEX "\nparameters: 3809344\n$"
  FAIL_REGEX "${ARCH_NO_ERROR}")

# Mask errors name file, line, entry and (for shape problems) the layer.
flowood_config_error_test(mask_unknown
  ARGS info --config ${CFG}/bad_masks.yaml
  EXPECT "${CFG}/bad_masks.yaml:4: model.masks[1] unknown mask 'chekerboard' (valid: checkerboard, channel, horizontal, vertical, quadrant, sub-quadrant, center, tabular, file, cycle)")
flowood_config_error_test(mask_shape
  ARGS info --config ${CFG}/bad_mask_shape.yaml
  EXPECT_REGEX "(^|\n)error: ${CFG}/bad_mask_shape\\.yaml:5: model\\.masks\\[1\\] 'channel': layer 2 \\(channel-wise\\): channel-wise mask needs images with an even number \\(>= 2\\) of channels, got 1×28×28\n")
flowood_config_error_test(mask_on_realnvp
  ARGS info --set "model.masks=[checkerboard]"
  EXPECT "--set: model.masks is only used by flows coupling and tabular (flow realnvp has its own masks)")
flowood_config_error_test(mlp_on_images
  ARGS info --set model.st_net=mlp
  EXPECT "--set: model.st_net mlp is for flow tabular, not realnvp (use a convolutional st-network)")
flowood_config_error_test(glow_scales
  ARGS info --set model.flow=glow --set model.num_scales=3
  EXPECT "--set: model.num_scales 3 scales need H and W divisible by 8 (in_shape is [1, 28, 28])")
flowood_config_error_test(mask_file_missing
  ARGS info --set model.flow=coupling --set "model.masks=[file:no/such/mask.png]"
  EXPECT "--set: model.masks[0] 'file:no/such/mask.png': no/such/mask.png: mask file not found")
# Positions never transformed: a warning on stderr, and the model is still built.
flowood_add_e2e_test(info.mask_coverage_warning
  COMMAND ${FLOWOOD} info --config ${CFG}/warn_mask_coverage.yaml
  PASS_REGEX "warn.*warn_mask_coverage\\.yaml:5: model\\.masks 392 of 784 positions are never transformed.*\nparameters: [0-9]+\n$"
  FAIL_REGEX "${ARCH_NO_ERROR}")
