# flowood sweep --slurm on a real, private one-node Slurm (munged, slurmctld, slurmd started by
# the test as root, on ports 16817/16818, stopped by pid): a 3-task array sweep, then aggregate.
# Label `slurm` (ctest -L slurm); skipped (exit 77) when not root or Slurm/munge are not installed
# (scripts/setup.sh installs them). Serial: its jobs use every core.
flowood_add_e2e_test(slurm
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/slurm.sh ${FLOWOOD} ${E2E_WORK}
  PASS_REGEX "slurm ok" TIMEOUT 900 LABELS slurm)
# PASS_REGULAR_EXPRESSION makes CTest ignore SKIP_RETURN_CODE, so the skip line (the script's
# first output) is matched too.
set_tests_properties(e2e.slurm PROPERTIES SKIP_RETURN_CODE 77 SKIP_REGULAR_EXPRESSION "^skipped: " RUN_SERIAL TRUE)
