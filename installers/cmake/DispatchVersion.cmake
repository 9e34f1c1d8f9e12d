# Version and build commit, baked into both executables (--version, /healthz, the About dialog).
set(DISPATCH_VERSION_STRING "${PROJECT_VERSION}")
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" OUTPUT_VARIABLE DISPATCH_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _git_rc)
if(NOT _git_rc EQUAL 0 OR DISPATCH_GIT_COMMIT STREQUAL "")
  set(DISPATCH_GIT_COMMIT "unknown")
endif()
string(TIMESTAMP DISPATCH_BUILD_DATE "%Y-%m-%dT%H:%M:%SZ" UTC)
