#!/bin/sh
# Writes tiny score files with hand-checkable metrics into DIR (emptied first):
#   in.csv        loglik 1..10                (dataset toy:in)
#   ood_a.csv     loglik 0.5, 1.5, ..., 5.5   (dataset toy:ood-a): AUROC 45/60 = 0.75
#   ood_b.csv     loglik 2, 4, 6, 8, 10       (no dataset metadata): AUROC 22.5/50 = 0.45 (ties count 1/2)
#   ood_nan.csv   ood_a with an empty loglik cell in data row 3
#   ood_inf.csv   ood_a with loglik +inf in data row 2 (a diverged model's score)
#   ood_flip.csv  ood_a with higher_is_in=false
# bpd = 20 - loglik everywhere, so `--column bpd` (lower = in-distribution) gives the same metrics.
set -eu
dir=$1
rm -rf "$dir"
mkdir -p "$dir"

# write FILE HIGHER_IS_IN DATASET(or -) VALUE...
write() {
  file=$1 hi=$2 ds=$3
  shift 3
  {
    [ "$ds" = - ] || echo "# dataset=$ds"
    echo "# score=loglik"
    echo "# higher_is_in=$hi"
    echo "# model=e2e"
    echo "index,label,loglik,bpd"
    i=0
    for v in "$@"; do
      if [ "$v" = nan ]; then
        echo "$i,,,"
      else
        echo "$i,,$v,$(awk -v v="$v" 'BEGIN { print 20 - v }')"
      fi
      i=$((i + 1))
    done
  } > "$dir/$file"
}

write in.csv true toy:in 1 2 3 4 5 6 7 8 9 10
write ood_a.csv true toy:ood-a 0.5 1.5 2.5 3.5 4.5 5.5
write ood_b.csv true - 2 4 6 8 10
write ood_nan.csv true toy:nan 0.5 1.5 nan 3.5 4.5 5.5
write ood_inf.csv true toy:inf 0.5 inf 2.5 3.5 4.5 5.5
write ood_flip.csv false toy:flip 0.5 1.5 2.5 3.5 4.5 5.5
