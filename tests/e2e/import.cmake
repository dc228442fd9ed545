# flowood import --from flows-ood on the golden-test fixture (tests/data/flows_ood).
flowood_add_e2e_test(import_flows_ood
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/import_flows_ood.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "import ok" TIMEOUT 300 LABELS badinput)
