# flowood auroc on tiny score files written by scripts/auroc_make_scores.sh, whose metrics are
# worked out by hand there: AUROC(ood_a) = 45/60 = 0.75, AUROC(ood_b) = 22.5/50 = 0.45.
set(AUROC_DIR ${E2E_WORK}/auroc)
set(AUROC_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/scripts)
set(AUROC_FAIL sh ${AUROC_SCRIPTS}/expect_failure.sh)

flowood_add_e2e_test(auroc.setup COMMAND sh ${AUROC_SCRIPTS}/auroc_make_scores.sh ${AUROC_DIR})
set_tests_properties(e2e.auroc.setup PROPERTIES FIXTURES_SETUP e2e_auroc_scores)

# One row per OOD set, named by dataset metadata or file name. ood_a by hand: AUPR-in
# 0.5 + 0.1(6/7 + 7/9 + 8/11 + 9/13 + 10/15), AUPR-out (1 + 2/3 + 3/5 + 4/7 + 5/9 + 6/11)/6,
# FPR95(in+) 5/6, FPR95(ood+) 5/10, detection error 0.25.
flowood_add_e2e_test(auroc.table
  COMMAND ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_a.csv --ood ${AUROC_DIR}/ood_b.csv --bootstrap 0
  PASS_REGEX "ood +n_in +n_out +AUROC +AUPR-in +AUPR-out +FPR95\\(in\\+\\) +FPR95\\(ood\\+\\) +DetErr\ntoy:ood-a +10 +6 +0\\.7500 +0\\.8721 +0\\.6565 +0\\.8333 +0\\.5000 +0\\.2500\nood_b\\.csv +10 +5 +0\\.4500 ")

# 95 % bootstrap intervals (the default 1000 resamples, seeded): an interval column after AUROC
# that contains the point estimate.
flowood_add_e2e_test(auroc.bootstrap_interval
  COMMAND ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_a.csv
  PASS_REGEX "AUROC +95% CI +AUPR-in.*\ntoy:ood-a +10 +6 +0\\.7500 +\\[0\\.[0-6][0-9]+, (0\\.[89]|1\\.0)[0-9]*\\] +0\\.8721")

# bpd: lower = in-distribution, whatever the files' higher_is_in says; bpd = 20 - loglik here.
flowood_add_e2e_test(auroc.bpd_column
  COMMAND ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_a.csv --column bpd --bootstrap 0
  PASS_REGEX "toy:ood-a +10 +6 +0\\.7500 +0\\.8721 +0\\.6565 +0\\.8333 +0\\.5000 +0\\.2500")

flowood_add_e2e_test(auroc.json
  COMMAND sh ${AUROC_SCRIPTS}/auroc_check_json.sh ${FLOWOOD} ${AUROC_DIR})

flowood_add_e2e_test(auroc.missing_file
  COMMAND ${AUROC_FAIL} --absent ${AUROC_DIR}/missing.json "${AUROC_DIR}/nope.csv" "cannot open" --
          ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/nope.csv --json ${AUROC_DIR}/missing.json)

flowood_add_e2e_test(auroc.missing_column
  COMMAND ${AUROC_FAIL} "${AUROC_DIR}/in.csv" "no column 'energy'" "available: index, label, loglik, bpd" --
          ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_a.csv --column energy)

flowood_add_e2e_test(auroc.nan_scores
  COMMAND ${AUROC_FAIL} --absent ${AUROC_DIR}/nan.json "${AUROC_DIR}/ood_nan.csv" "NaN" "data row 3" --
          ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_a.csv --ood ${AUROC_DIR}/ood_nan.csv
          --json ${AUROC_DIR}/nan.json)

flowood_add_e2e_test(auroc.inf_scores
  COMMAND ${AUROC_FAIL} --absent ${AUROC_DIR}/inf.json "${AUROC_DIR}/ood_inf.csv" "infinite" "data row 2" --
          ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_inf.csv --json ${AUROC_DIR}/inf.json)

flowood_add_e2e_test(auroc.direction_mismatch
  COMMAND ${AUROC_FAIL} --absent ${AUROC_DIR}/flip.json "${AUROC_DIR}/ood_flip.csv" "${AUROC_DIR}/in.csv" "higher_is_in" --
          ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_flip.csv --json ${AUROC_DIR}/flip.json)

flowood_add_e2e_test(auroc.json_dir_missing
  COMMAND ${AUROC_FAIL} "${AUROC_DIR}/no_such_dir" "does not exist" --
          ${FLOWOOD} auroc --in ${AUROC_DIR}/in.csv --ood ${AUROC_DIR}/ood_a.csv --json ${AUROC_DIR}/no_such_dir/m.json)

set_tests_properties(e2e.auroc.table e2e.auroc.bpd_column e2e.auroc.json e2e.auroc.missing_file
  e2e.auroc.missing_column e2e.auroc.nan_scores e2e.auroc.inf_scores e2e.auroc.direction_mismatch e2e.auroc.json_dir_missing
  PROPERTIES FIXTURES_REQUIRED e2e_auroc_scores)
