# flowood_warnings(TARGET): the project's warning flags on TARGET's own sources, and -Werror when
# FLOWOOD_WERROR is ON (off by default, so a newer compiler's new warning cannot break a user's build).
function(flowood_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(FLOWOOD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
