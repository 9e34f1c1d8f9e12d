# Version and build commit, baked into both executables (--version, /healthz, the About dialog).
set(DISPATCH_VERSION_STRING "${PROJECT_VERSION}")
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" OUTPUT_VARIABLE DISPATCH_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _git_rc)
if(NOT _git_rc EQUAL 0 OR DISPATCH_GIT_COMMIT STREQUAL "")
  set(DISPATCH_GIT_COMMIT "unknown")
endif()
# The build date is SOURCE_DATE_EPOCH when set (reproducible builds), else the time of the commit built: a
# configure-time clock would change a compile definition of the whole server core on every re-configure (each
# CONFIGURE_DEPENDS glob change), rebuilding it, and would make two builds of one commit differ.
if(NOT DEFINED ENV{SOURCE_DATE_EPOCH})
  execute_process(COMMAND git log -1 --format=%ct
    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" OUTPUT_VARIABLE _dispatch_commit_time
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_dispatch_commit_time MATCHES "^[0-9]+$")
    set(ENV{SOURCE_DATE_EPOCH} "${_dispatch_commit_time}")
    set(_dispatch_unset_epoch TRUE)
  endif()
endif()
string(TIMESTAMP DISPATCH_BUILD_DATE "%Y-%m-%dT%H:%M:%SZ" UTC)   # honours SOURCE_DATE_EPOCH
if(_dispatch_unset_epoch)
  unset(ENV{SOURCE_DATE_EPOCH})
endif()
