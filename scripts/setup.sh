#!/usr/bin/env bash
# Installs what flowood needs from Debian 12's archive. Idempotent: installs only what is
# missing. Works as root; uses sudo otherwise. Says what it does.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libgloo-dev             # Gloo headers for LibTorch's c10d ProcessGroupGloo (data-parallel training)
  libcli11-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev      # JSON (metrics, manifests, plans)
  libgtest-dev
  libopencv-dev           # PNG/JPEG encode/decode, plots
  zlib1g-dev              # gzipped IDX files
  libarchive-dev          # tar, tar.gz and zip (.npz) archives
  libmatio-dev            # SVHN's MATLAB .mat files
  libopenblas0-openmp     # Debian's default BLAS is a reference build, ~35x slower on Linear layers
  dataset-fashion-mnist   # Fashion-MNIST train+test in /usr/share/datasets/fashion-mnist
  # The real-Slurm test (label slurm) starts its own private munged/slurmctld/slurmd from these;
  # the packages' own services stay unconfigured (no /etc/slurm/slurm.conf) and are not needed.
  slurmctld slurmd slurm-client munge
)

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Make sure the fast BLAS is the one libtorch loads.
blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/ {print $2}')
case "$blas" in
  *openblas*) echo "setup: BLAS is OpenBLAS ($blas)" ;;
  *) echo "setup: selecting OpenBLAS as libblas.so.3"
     "${sudo[@]}" update-alternatives --set libblas.so.3-x86_64-linux-gnu \
       /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 || echo "setup: warning: could not select OpenBLAS" ;;
esac
