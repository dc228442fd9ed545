#!/bin/sh
# Writes two deterministic score files of 200 roughly normal log-likelihoods into DIR (emptied
# first): a.csv (dataset toy:a, mean -2000 nats) and b.csv (dataset toy:b, mean -1500 nats), with
# bpd derived from loglik for 784-dimensional data.
set -eu
dir=$1
rm -rf "$dir"
mkdir -p "$dir"

# write FILE DATASET MEAN SD SEED
write() {
  awk -v ds="$2" -v mean="$3" -v sd="$4" -v seed="$5" 'BEGIN {
    print "# dataset=" ds
    print "# score=loglik"
    print "# higher_is_in=true"
    print "# model=e2e"
    print "index,label,loglik,bpd"
    x = seed
    for (i = 0; i < 200; i++) {
      # Park-Miller LCG (exact in double precision) and a Box-Muller draw
      x = (x * 16807) % 2147483647; u1 = x / 2147483647
      x = (x * 16807) % 2147483647; u2 = x / 2147483647
      z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2)
      ll = mean + sd * z
      printf "%d,,%.3f,%.6f\n", i, ll, -ll / (784 * log(2)) + 8
    }
  }' > "$dir/$1"
}

write a.csv toy:a -2000 150 12345
write b.csv toy:b -1500 200 67890
