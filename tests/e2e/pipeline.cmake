# The pipeline through the real binary on generated data: run/score/auroc/histogram, and resume
# after SIGKILL.
flowood_add_e2e_test(pipeline_run
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/pipeline_run.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "pipeline ok" TIMEOUT 600)
flowood_add_e2e_test(pipeline_resume_after_sigkill
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/pipeline_resume.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "resume ok" TIMEOUT 600)
set(EXPECT_FAILURE sh ${CMAKE_CURRENT_SOURCE_DIR}/scripts/expect_failure.sh)
flowood_add_e2e_test(score_missing_run_names_it
  COMMAND ${EXPECT_FAILURE} "no_such_run: no such run directory" --
          ${FLOWOOD} score --run ${E2E_WORK}/no_such_run --data mnist:test --out ${E2E_WORK}/x.csv
  )
flowood_add_e2e_test(score_unknown_dataset_lists_valid_ones
  COMMAND ${EXPECT_FAILURE} "notmnist" "fashion-mnist" --
          ${FLOWOOD} run ${PROJECT_SOURCE_DIR}/experiments/quickstart.yaml --run-dir ${E2E_WORK}/bad_ds --set data.train=notmnist:train
  )
# A missing OOD file stops `run` before any training: no checkpoint is written.
flowood_add_e2e_test(run_checks_datasets_before_training
  COMMAND ${EXPECT_FAILURE} --absent ${E2E_WORK}/ood_missing/checkpoint.pt
          "idx:${E2E_WORK}/no_such_ood.gz" "no such file or directory" --
          ${FLOWOOD} run ${PROJECT_SOURCE_DIR}/experiments/quickstart.yaml --run-dir ${E2E_WORK}/ood_missing
          "--set" "data.ood=[idx:${E2E_WORK}/no_such_ood.gz, mnist:test]")
# The inspection verbs on tiny RealNVP, coupling-stack and Glow runs.
flowood_add_e2e_test(inspect_verbs
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/inspect_verbs.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "inspect ok" TIMEOUT 600)
# A tabular flow on a generated CSV through run/score (classes and part selections, standardisation).
flowood_add_e2e_test(tabular_run
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/tabular_run.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "tabular ok" TIMEOUT 600)
# Every OOD score method through run and score --method.
flowood_add_e2e_test(score_methods
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/score_methods.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "score methods ok" TIMEOUT 900)
# The fitted scores (level-ratio, dose, gradient) and the held-out typicality threshold.
flowood_add_e2e_test(score_fitted
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/score_fitted.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "fitted scores ok" TIMEOUT 600)
# Sweeps: a local 2 × 3 grid, aggregate, a failing run, the Slurm array script and preemption.
flowood_add_e2e_test(sweep
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/sweep.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "sweep ok" TIMEOUT 900)
# Every shipped grid expands into valid configs (written, not run).
file(GLOB FLOWOOD_SWEEP_GRIDS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/experiments/sweeps/*.yaml)
foreach(grid ${FLOWOOD_SWEEP_GRIDS})
  get_filename_component(grid_name ${grid} NAME_WE)
  flowood_add_e2e_test(sweep_grid.${grid_name}
    COMMAND ${FLOWOOD} sweep ${grid} --out ${E2E_WORK}/sweep_grids/${grid_name}
    PASS_REGEX "configs in .*configs written")
endforeach()
# kill -TERM during training, rerun: the same parameters (scores, losses) as an uninterrupted run.
flowood_add_e2e_test(preempt_identical
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/preempt_identical.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "preempt ok" TIMEOUT 600)
# A second signal 30–70 ms after the first still ends in exit 75 with a checkpoint (label faults).
flowood_add_e2e_test(double_signal
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/double_signal.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "double signal ok" TIMEOUT 600 LABELS faults)
# A full disk while training and scoring: clear error, previous files intact (label faults).
flowood_add_e2e_test(disk_full
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/disk_full.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "disk full ok" TIMEOUT 600 LABELS faults)
# Two processes with torchrun-style variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) train one run.
flowood_add_e2e_test(ddp_two_processes
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/ddp_two_processes.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "ddp ok" TIMEOUT 600)

# kill -9 at 10 seeded random points of training; each run resumes to scores identical to an
# uninterrupted run's. The longest test (about 200 s under ASan): COST starts it first.
flowood_add_e2e_test(kill_resume
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kill_resume.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "kill resume ok" TIMEOUT 600 COST 200 LABELS faults)
# An edited config.yaml is compared with the config stored in the checkpoint (score and resume);
# score refuses --out and --npy on one path and an empty dataset.
flowood_add_e2e_test(run_integrity
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/run_integrity.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "run integrity ok" TIMEOUT 300 LABELS badinput)
# The bad-input suite: hostile files (headers claiming gigabytes), impossible or misleading configs, a
# diverged run, a flipped checkpoint byte, read-only and clashing outputs, stale temporary files.
flowood_add_e2e_test(bad_input
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/bad_input.sh ${FLOWOOD} $<TARGET_FILE:make_hostile_inputs> ${E2E_WORK}
  PASS_REGEX "bad input ok" TIMEOUT 600 LABELS badinput)
# Flows on embeddings (classifier and TorchScript extractors), classifier baselines, negative training.
flowood_add_e2e_test(embedding_run
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/embedding_run.sh ${FLOWOOD} $<TARGET_FILE:make_torchscript_module> ${E2E_WORK}
  PASS_REGEX "embedding run ok" TIMEOUT 900)
set_tests_properties(e2e.embedding_run PROPERTIES SKIP_RETURN_CODE 77)
# Training curves: kept checkpoints and `flowood curve`.
flowood_add_e2e_test(curve
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/curve.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "curve ok" TIMEOUT 300)
