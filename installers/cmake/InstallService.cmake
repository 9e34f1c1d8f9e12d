# Install-time script (included from cmake_install.cmake, see Packaging.cmake): installs dispatch-server.service
# and /etc/dispatch-server/config.json for the prefix being installed to.
#   prefix /usr (the .deb, a distribution-style install): /etc/dispatch-server, /lib/systemd/system
#   any other prefix P:                                    P/etc/dispatch-server, P/lib/systemd/system
# Inputs: DISPATCH_SERVICE_SOURCE_DIR, DISPATCH_SERVICE_WORK_DIR, DISPATCH_LIBEXEC_DIR, DISPATCH_DOC_DIR.
# An existing, edited config.json is kept; the new default goes next to it as config.json.new.
# SPDX-License-Identifier: GPL-3.0-or-later

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_sysconf "/etc/dispatch-server")
  set(_unitdir "/lib/systemd/system")
else()
  set(_sysconf "${CMAKE_INSTALL_PREFIX}/etc/dispatch-server")
  set(_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

set(DISPATCH_SERVICE_EXE "${CMAKE_INSTALL_PREFIX}/${DISPATCH_LIBEXEC_DIR}/dispatch-server")
set(DISPATCH_SERVICE_CONFIG "${_sysconf}/config.json")
set(DISPATCH_SERVICE_DOC "${CMAKE_INSTALL_PREFIX}/${DISPATCH_DOC_DIR}/README.server.md")
configure_file("${DISPATCH_SERVICE_SOURCE_DIR}/dispatch-server.service.in"
  "${DISPATCH_SERVICE_WORK_DIR}/dispatch-server.service" @ONLY)
file(INSTALL DESTINATION "${_unitdir}" TYPE FILE FILES "${DISPATCH_SERVICE_WORK_DIR}/dispatch-server.service")

set(_config "$ENV{DESTDIR}${_sysconf}/config.json")
if(EXISTS "${_config}")
  file(READ "${_config}" _old)
  file(READ "${DISPATCH_SERVICE_SOURCE_DIR}/config.json" _new)
  if(NOT _old STREQUAL _new)
    message(STATUS "Keeping the edited ${_config}; the new default is config.json.new")
    file(COPY_FILE "${DISPATCH_SERVICE_SOURCE_DIR}/config.json" "${DISPATCH_SERVICE_WORK_DIR}/config.json.new")
    file(INSTALL DESTINATION "${_sysconf}" TYPE FILE FILES "${DISPATCH_SERVICE_WORK_DIR}/config.json.new")
    return()
  endif()
endif()
file(INSTALL DESTINATION "${_sysconf}" TYPE FILE FILES "${DISPATCH_SERVICE_SOURCE_DIR}/config.json")
