# flowood histogram on two deterministic 200-value score files (scripts/histogram_make_scores.sh).
set(HIST_DIR ${E2E_WORK}/histogram)
set(HIST_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/scripts)
set(HIST_CHECK sh ${HIST_SCRIPTS}/histogram_check_png.sh ${FLOWOOD} ${HIST_DIR})
set(HIST_FAIL sh ${HIST_SCRIPTS}/expect_failure.sh)

flowood_add_e2e_test(histogram.setup COMMAND sh ${HIST_SCRIPTS}/histogram_make_scores.sh ${HIST_DIR})
set_tests_properties(e2e.histogram.setup PROPERTIES FIXTURES_SETUP e2e_histogram_scores)

# Defaults: labels from dataset metadata, CSV next to the PNG, 5 % clipped (10 of 200), 60 bins.
flowood_add_e2e_test(histogram.png
  COMMAND ${HIST_CHECK} ${HIST_DIR}/plot.png ${HIST_DIR}/plot.csv 640 480
          "count[toy:a]" "density[toy:b]" "# n_dropped[toy:a]=10" "# n_kept[toy:b]=190" --
          ${HIST_DIR}/a.csv ${HIST_DIR}/b.csv --out ${HIST_DIR}/plot.png --width 640 --height 480
          --title "e2e: loglik")

# --column bpd (clipped at the high end), --label for the first file only, --csv, --bins.
flowood_add_e2e_test(histogram.bpd_labels_csv
  COMMAND ${HIST_CHECK} ${HIST_DIR}/bpd.png ${HIST_DIR}/bpd_bins.csv 900 600
          "count[first]" "count[toy:b]" "# n_dropped[first]=0" --
          ${HIST_DIR}/a.csv ${HIST_DIR}/b.csv --out ${HIST_DIR}/bpd.png --csv ${HIST_DIR}/bpd_bins.csv
          --column bpd --label first --bins 20 --clip-percent 0)

flowood_add_e2e_test(histogram.missing_file
  COMMAND ${HIST_FAIL} --absent ${HIST_DIR}/m.png --absent ${HIST_DIR}/m.csv "${HIST_DIR}/nope.csv" "cannot open" --
          ${FLOWOOD} histogram ${HIST_DIR}/a.csv ${HIST_DIR}/nope.csv --out ${HIST_DIR}/m.png)

flowood_add_e2e_test(histogram.out_dir_missing
  COMMAND ${HIST_FAIL} "${HIST_DIR}/no_such_dir" "--out" "does not exist" --
          ${FLOWOOD} histogram ${HIST_DIR}/a.csv --out ${HIST_DIR}/no_such_dir/h.png)

flowood_add_e2e_test(histogram.missing_column
  COMMAND ${HIST_FAIL} --absent ${HIST_DIR}/c.png "${HIST_DIR}/b.csv" "no column 'energy'" --
          ${FLOWOOD} histogram ${HIST_DIR}/b.csv --out ${HIST_DIR}/c.png --column energy)

flowood_add_e2e_test(histogram.too_many_labels
  COMMAND ${HIST_FAIL} --absent ${HIST_DIR}/l.png "--label" "given 2 times for 1 file" --
          ${FLOWOOD} histogram ${HIST_DIR}/a.csv --out ${HIST_DIR}/l.png --label x --label y)

set_tests_properties(e2e.histogram.png e2e.histogram.bpd_labels_csv e2e.histogram.missing_file
  e2e.histogram.out_dir_missing e2e.histogram.missing_column e2e.histogram.too_many_labels
  PROPERTIES FIXTURES_REQUIRED e2e_histogram_scores)
