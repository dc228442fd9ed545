# flowood data: list, info, verify, fetch; folder:/npy:/csv: on data outside the repository;
# errors that name the spec, file or URL.
set(DATA_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/scripts)
set(DATA_FAIL sh ${DATA_SCRIPTS}/expect_failure.sh)
set(DATA_DIR ${E2E_WORK}/data)
set(DATA_NO_ERROR "(^|\n)(error|internal error|terminate called)")

# Every kind appears in the list, with where it was (or was not) found.
flowood_add_e2e_test(data.list
  COMMAND ${FLOWOOD} data list --root ${DATA_DIR}/empty
  PASS_REGEX "# roots, in search order: ${DATA_DIR}/empty, .*\ndataset +status +where\n.*\ncifar10:test +(found|missing) .*\nsvhn:test +(found|missing) .*\nceleba:test +(found|missing) .*\nnoise:uniform\\|gaussian +generated .*\nfolder:PATH +path .*\narff:PATH +path "
  FAIL_REGEX "${DATA_NO_ERROR}")

# info on generated sets: count, shape, value range.
flowood_add_e2e_test(data.info.noise
  COMMAND ${FLOWOOD} data info "noise:uniform?shape=1x28x28&n=300&seed=1"
  PASS_REGEX "spec: noise:uniform\\?shape=1x28x28&n=300&seed=1\nkind: images\nfiles: none \\(generated\\)\ncount: 300\nshape: 1x28x28 \\(CxHxW\\)\ndtype: uint8\nrange: 0 \\.\\. 255\n.*labels: none\n"
  FAIL_REGEX "${DATA_NO_ERROR}")
flowood_add_e2e_test(data.info.constant_limit
  COMMAND ${FLOWOOD} data info "constant?n=50" --limit 7
  PASS_REGEX "count: 7\nshape: 3x32x32 "
  FAIL_REGEX "${DATA_NO_ERROR}")

# folder:, npy: and csv: on files in a fresh directory under $TMPDIR.
flowood_add_e2e_test(data.outside_repository
  COMMAND sh ${DATA_SCRIPTS}/data_outside_repo.sh ${FLOWOOD})

# The real CIFAR-10 mirror, when the offline copy sits beside the checkout (from its tarballs, or
# the decoded-data cache, kept in the test's work directory).
if(EXISTS ${PROJECT_SOURCE_DIR}/../shared/data/cifar10-jpeg/test.tar.gz)
  flowood_add_e2e_test(data.info.cifar10_mirror
    COMMAND env FLOWOOD_CACHE=${DATA_DIR}/cache ${FLOWOOD} data info cifar10:test --root ${PROJECT_SOURCE_DIR}/../shared/data
    PASS_REGEX "count: 10000\nshape: 3x32x32 \\(CxHxW\\)\n.*labels: 10 classes\nclass +count +name\n +0 +1000 +airplane\n.* +9 +1000 +truck\n"
    FAIL_REGEX "${DATA_NO_ERROR}")
endif()

# Errors: one line naming the spec or what to do.
flowood_add_e2e_test(data.info.unknown_option
  COMMAND ${DATA_FAIL} "folder:/tmp?grey" "unknown option \"grey\" for folder" "gray, rgb" --
          ${FLOWOOD} data info "folder:/tmp?grey")
flowood_add_e2e_test(data.info.not_found
  COMMAND ${DATA_FAIL} "svhn:test: dataset not found" "${DATA_DIR}/empty/svhn/test_32x32.mat" "ufldl.stanford.edu" --
          env FLOWOOD_DATA= ${FLOWOOD} data info svhn:test --root ${DATA_DIR}/empty)
flowood_add_e2e_test(data.info.bad_limit
  COMMAND ${DATA_FAIL} "--limit" "must be >= 0" -- ${FLOWOOD} data info noise --limit -1)
flowood_add_e2e_test(data.needs_subcommand
  COMMAND ${FLOWOOD} data
  WILL_FAIL)

# verify: the project's manifest; a corrupt file is a MISMATCH and exit 1; missing files are listed.
flowood_add_e2e_test(data.verify.manifest
  COMMAND ${FLOWOOD} data verify --root ${DATA_DIR}/empty
  PASS_REGEX "# manifest: .*data/manifest.tsv\n(.*\n)*(ok|missing) +mnist/t10k-images-idx3-ubyte.gz .*\n[0-9]+ ok, 0 mismatched, [0-9]+ missing, [0-9]+ without checksum\n"
  FAIL_REGEX "${DATA_NO_ERROR}")
flowood_add_e2e_test(data.verify.mismatch
  COMMAND sh -c "mkdir -p '${DATA_DIR}/bad' && printf 'not mnist' | gzip > '${DATA_DIR}/bad/t10k-labels-idx1-ubyte.gz' && exec sh '${DATA_SCRIPTS}/expect_failure.sh' 'do not match their checksums' -- '${FLOWOOD}' data verify mnist --dir '${DATA_DIR}/bad'")
flowood_add_e2e_test(data.verify.unknown_name
  COMMAND ${DATA_FAIL} "cifar100" "not in the manifest" "fashion-mnist, mnist" -- ${FLOWOOD} data verify cifar100)

# fetch without a downloader (or offline): the message names each URL and where the file goes.
flowood_add_e2e_test(data.fetch.offline_manifest
  COMMAND sh -c "PATH=/nonexistent '${FLOWOOD}' data fetch mnist --dest '${DATA_DIR}/fetch_mnist' 2>&1 || echo \"exit status: $?\""
  PASS_REGEX "Could not download 4 file\\(s\\) of mnist \\(neither curl nor wget is installed\\)\\. Place them by hand:\n  https://ossci-datasets\\.s3\\.amazonaws\\.com/mnist/train-images-idx3-ubyte\\.gz\n +-> ${DATA_DIR}/fetch_mnist/train-images-idx3-ubyte\\.gz\n.*error: mnist: 4 file\\(s\\) not downloaded.*\nexit status: 1\n")
flowood_add_e2e_test(data.fetch.offline_message
  COMMAND sh -c "PATH=/nonexistent '${FLOWOOD}' data fetch svhn --dest '${DATA_DIR}/fetch_svhn' 2>&1 || echo \"exit status: $?\""
  PASS_REGEX "neither curl nor wget is installed.*http://ufldl.stanford.edu/housenumbers/train_32x32.mat\n +-> ${DATA_DIR}/fetch_svhn/svhn/train_32x32.mat\n.*error: svhn: 2 file\\(s\\) not downloaded.*\nexit status: 1\n")
flowood_add_e2e_test(data.fetch.celeba_is_manual
  COMMAND ${DATA_FAIL} "celeba: cannot be downloaded automatically" "Google Drive" -- ${FLOWOOD} data fetch celeba)
flowood_add_e2e_test(data.fetch.generated
  COMMAND ${DATA_FAIL} "noise: is generated; nothing to fetch" -- ${FLOWOOD} data fetch noise)
