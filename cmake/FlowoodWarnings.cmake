# Warnings (and, with FLOWOOD_SANITIZE, AddressSanitizer + UndefinedBehaviorSanitizer; with
# FLOWOOD_LIBFUZZER, libFuzzer's coverage instrumentation) for
# flowood's own targets only: no global flags.
function(flowood_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(FLOWOOD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(FLOWOOD_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(FLOWOOD_LIBFUZZER)  # coverage feedback for libFuzzer from every flowood source, not only the targets
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
