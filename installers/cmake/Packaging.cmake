# Packaging: the install rules for everything that is not a build target (licence, icons, desktop integration,
# man pages, the headless service) and the CPack configuration. Included last by the top-level CMakeLists.txt.
#   Linux:   a .deb for Debian 12      cmake --build <build> --target package   -> <build>/packages/*.deb
#   Windows: an NSIS installer          (same command; installers/windows/dispatch-console.nsi)
#   macOS:   a drag-and-drop DMG        (same command; installers/macos/)
# See installers/README.md.
# SPDX-License-Identifier: GPL-3.0-or-later
include_guard(GLOBAL)

include(DispatchAppId)      # DISPATCH_APP_ID
set(DISPATCH_PACKAGE_MAINTAINER "Dispatch Console maintainers <maintainers@dispatch-console.invalid>" CACHE STRING
  "Maintainer named in the packages (Name <address>)")

set(_dispatch_installers "${PROJECT_SOURCE_DIR}/installers")
set(_dispatch_icons "${PROJECT_SOURCE_DIR}/resources/icons")
set(_dispatch_gen "${PROJECT_BINARY_DIR}/installers")
set(DISPATCH_DOC_DIR "${CMAKE_INSTALL_DATADIR}/doc/dispatch-console")
file(MAKE_DIRECTORY "${_dispatch_gen}")

# The release date is the date of the commit built, so that the same commit gives the same package.
execute_process(COMMAND git log -1 --format=%cs WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  OUTPUT_VARIABLE DISPATCH_RELEASE_DATE OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git log -1 --format=%cD WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  OUTPUT_VARIABLE DISPATCH_RELEASE_DATE_RFC2822 OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT DISPATCH_RELEASE_DATE MATCHES "^[0-9]+-[0-9]+-[0-9]+$" OR DISPATCH_RELEASE_DATE_RFC2822 STREQUAL "")
  string(TIMESTAMP DISPATCH_RELEASE_DATE "%Y-%m-%d" UTC)
  string(TIMESTAMP DISPATCH_RELEASE_DATE_RFC2822 "%a, %d %b %Y %H:%M:%S +0000" UTC)
endif()
# Copyright years for the Debian copyright file: from the first commit to the one built.
string(SUBSTRING "${DISPATCH_RELEASE_DATE}" 0 4 _dispatch_last_year)
execute_process(COMMAND git log --max-parents=0 --format=%cd --date=format:%Y HEAD
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" OUTPUT_VARIABLE _dispatch_first_year
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
string(REGEX MATCH "^[0-9][0-9][0-9][0-9]" _dispatch_first_year "${_dispatch_first_year}")
if(_dispatch_first_year AND _dispatch_first_year LESS _dispatch_last_year)
  set(DISPATCH_COPYRIGHT_YEARS "${_dispatch_first_year}-${_dispatch_last_year}")
else()
  set(DISPATCH_COPYRIGHT_YEARS "${_dispatch_last_year}")
endif()

# ---------------------------------------------------------------------------------------------------------------
# Install rules shared by every platform
install(FILES "${PROJECT_SOURCE_DIR}/COPYING" DESTINATION "${DISPATCH_DOC_DIR}")

# ---------------------------------------------------------------------------------------------------------------
# Linux (and other freedesktop systems): icons, desktop entry, AppStream, man pages, the PATH link, the service
if(UNIX AND NOT APPLE)
  find_program(DISPATCH_GZIP gzip)
  if(NOT DISPATCH_GZIP)
    message(FATAL_ERROR "gzip is needed for the man pages and the package changelog")
  endif()
  # gzip -9n: no name and no time stamp in the header, so the output depends on the content only.
  function(_dispatch_gzip input output)
    execute_process(COMMAND "${DISPATCH_GZIP}" -9nc "${input}" OUTPUT_FILE "${output}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "gzip ${input} failed")
    endif()
    set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${input}")
  endfunction()

  foreach(size IN ITEMS 16 22 24 32 48 64 128 256 512)
    install(FILES "${_dispatch_icons}/png/dispatch-console-${size}.png"
      DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps" RENAME dispatch-console.png)
  endforeach()
  install(FILES "${_dispatch_icons}/dispatch-console.svg" DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps")

  install(FILES "${_dispatch_installers}/linux/dispatch-console.desktop"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/applications" RENAME "${DISPATCH_APP_ID}.desktop")
  configure_file("${_dispatch_installers}/linux/dispatch-console.metainfo.xml.in"
    "${_dispatch_gen}/${DISPATCH_APP_ID}.metainfo.xml" @ONLY)
  install(FILES "${_dispatch_gen}/${DISPATCH_APP_ID}.metainfo.xml" DESTINATION "${CMAKE_INSTALL_DATADIR}/metainfo")

  foreach(page IN ITEMS dispatch-console dispatch-server)
    _dispatch_gzip("${_dispatch_installers}/linux/${page}.1" "${_dispatch_gen}/${page}.1.gz")
    install(FILES "${_dispatch_gen}/${page}.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
  endforeach()
  install(FILES "${_dispatch_installers}/linux/README.server.md" DESTINATION "${DISPATCH_DOC_DIR}")

  # dispatch-server on PATH: bin/dispatch-server -> ../libexec/dispatch-console/dispatch-server (relative, so it
  # holds under any prefix). The console finds the server next to itself or in the libexec dir.
  if(TARGET dispatch-server)
    file(RELATIVE_PATH _dispatch_link_target "/prefix/${CMAKE_INSTALL_BINDIR}"
      "/prefix/${DISPATCH_LIBEXEC_DIR}/dispatch-server")
    file(MAKE_DIRECTORY "${_dispatch_gen}/bin")
    file(CREATE_LINK "${_dispatch_link_target}" "${_dispatch_gen}/bin/dispatch-server" SYMBOLIC)
    install(FILES "${_dispatch_gen}/bin/dispatch-server" DESTINATION "${CMAKE_INSTALL_BINDIR}")
  endif()

  # The headless service. Its files belong to the system, not to the prefix: for a /usr install (and the .deb)
  # they go to /etc/dispatch-server and /lib/systemd/system, for any other prefix under <prefix>/etc and
  # <prefix>/lib/systemd/system (systemd also reads /usr/local/lib/systemd/system). Decided at install time,
  # because CPack installs with the prefix /usr while the build may be configured for /usr/local.
  install(CODE "
    set(DISPATCH_SERVICE_SOURCE_DIR \"${_dispatch_installers}/linux\")
    set(DISPATCH_SERVICE_WORK_DIR \"${_dispatch_gen}/service\")
    set(DISPATCH_LIBEXEC_DIR \"${DISPATCH_LIBEXEC_DIR}\")
    set(DISPATCH_DOC_DIR \"${DISPATCH_DOC_DIR}\")
    include(\"${_dispatch_installers}/cmake/InstallService.cmake\")
  ")

  # Debian changelog (native package: the version has no Debian revision).
  set(DISPATCH_DEB_VERSION "${PROJECT_VERSION}")
  configure_file("${_dispatch_installers}/linux/changelog.in" "${_dispatch_gen}/changelog" @ONLY)
  _dispatch_gzip("${_dispatch_gen}/changelog" "${_dispatch_gen}/changelog.gz")
  configure_file("${_dispatch_installers}/linux/copyright.in" "${_dispatch_gen}/copyright" @ONLY)
  install(FILES "${_dispatch_gen}/copyright" "${_dispatch_gen}/changelog.gz" DESTINATION "${DISPATCH_DOC_DIR}")
endif()

# ---------------------------------------------------------------------------------------------------------------
# Windows and macOS: Qt's deployment script copies the Qt libraries and plugins next to the console
# (windeployqt / macdeployqt). The macOS bundle itself is set up by dispatch_macos_bundle() (installers/macos/).
if((WIN32 OR APPLE) AND TARGET dispatch-console AND COMMAND qt_generate_deploy_app_script)
  qt_generate_deploy_app_script(TARGET dispatch-console OUTPUT_SCRIPT _dispatch_deploy_script
    NO_UNSUPPORTED_PLATFORM_ERROR)
  install(SCRIPT "${_dispatch_deploy_script}")
endif()

# ---------------------------------------------------------------------------------------------------------------
# CPack
set(CPACK_PACKAGE_NAME "dispatch-console")
set(CPACK_PACKAGE_VENDOR "The Dispatch Console authors")
set(CPACK_PACKAGE_CONTACT "${DISPATCH_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "desktop console and local server for Dispatch functions")
set(CPACK_PACKAGE_DESCRIPTION [=[
Dispatch Console is a Qt desktop console for Dispatch functions. It comes with
its own Dispatch-Solo-compatible server, dispatch-server, which speaks the
Dispatch REST API and runs functions as warm local worker processes for
Python 3, Node.js and Java, optionally inside a bubblewrap sandbox: no
container engine and no cluster are needed.

The package also ships dispatch-server.service for running the server
headless as a system service; it is installed but not enabled.]=])
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Dispatch Console")
set(CPACK_PACKAGE_EXECUTABLES "dispatch-console;Dispatch Console")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/COPYING")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_OUTPUT_FILE_PREFIX "packages")   # relative to where cpack runs: <build>/packages for the package target
set(CPACK_SOURCE_GENERATOR "TXZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build/" "/\\\\.cache/" "__pycache__")   # regexes, escaped twice
# Our NSIS template (installers/windows/NSIS.template.in) takes precedence over CMake's own.
set(CPACK_MODULE_PATH "${_dispatch_installers}/windows" ${CMAKE_MODULE_PATH})

# --- Debian ----------------------------------------------------------------------------------------------------
set(CPACK_DEBIAN_PACKAGE_NAME "dispatch-console")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${DISPATCH_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Description: CPack takes the synopsis from CPACK_PACKAGE_DESCRIPTION_SUMMARY, the rest from CPACK_PACKAGE_DESCRIPTION.
# Libraries come from dpkg-shlibdeps (this includes libqt6gui6, which holds the xcb platform plugin); what is
# only started or loaded at run time is listed by hand:
#   python3 + python3-venv: the python3 runtime and its image environments (always offered);
#   adduser: the postinst creates the service user;
#   bubblewrap: the function sandbox; fonts: Qt draws text with fontconfig's fonts;
#   nodejs, a JDK (functions are compiled with javac) and Gson: the nodejs and java runtimes.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, python3, python3-venv")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bubblewrap, fonts-dejavu-core | fonts-freefont-ttf")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nodejs, default-jdk-headless, libgoogle-gson-java, maven, qt6-wayland")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
file(WRITE "${_dispatch_gen}/conffiles" "/etc/dispatch-server/config.json\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${_dispatch_installers}/linux/postinst"
  "${_dispatch_installers}/linux/prerm"
  "${_dispatch_installers}/linux/postrm"
  "${_dispatch_gen}/conffiles")

# --- Windows (NSIS) --------------------------------------------------------------------------------------------
set(CPACK_DISPATCH_NSIS_SCRIPT "${_dispatch_installers}/windows/dispatch-console.nsi")
set(CPACK_NSIS_MUI_ICON "${_dispatch_icons}/dispatch-console.ico")
set(CPACK_NSIS_MUI_UNIICON "${_dispatch_icons}/dispatch-console.ico")
set(CPACK_NSIS_DISPLAY_NAME "Dispatch Console")
set(CPACK_NSIS_PACKAGE_NAME "Dispatch Console")

# --- macOS (DMG) -----------------------------------------------------------------------------------------------
set(CPACK_DMG_VOLUME_NAME "Dispatch Console")
set(CPACK_DMG_FORMAT "UDZO")
set(CPACK_BUNDLE_NAME "Dispatch Console")

if(WIN32)
  set(CPACK_GENERATOR "NSIS;ZIP")
elseif(APPLE)
  set(CPACK_GENERATOR "DragNDrop")
  set(CPACK_PACKAGE_ICON "${_dispatch_icons}/dispatch-console.icns")
else()
  set(CPACK_GENERATOR "DEB")
endif()

include(CPack)
