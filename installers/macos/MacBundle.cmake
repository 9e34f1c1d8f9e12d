# dispatch_macos_bundle(<target>): turns the console into "Dispatch Console.app" with our Info.plist
# (installers/macos/Info.plist.in) and icon (resources/icons/dispatch-console.icns). For app/CMakeLists.txt:
#   if(APPLE)
#     include(${PROJECT_SOURCE_DIR}/installers/macos/MacBundle.cmake)
#     dispatch_macos_bundle(dispatch-console)
#   endif()
#   install(TARGETS dispatch-console RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} BUNDLE DESTINATION .)
# Packaging.cmake then deploys Qt into the bundle (macdeployqt through qt_generate_deploy_app_script) and CPack
# makes the DMG (DragNDrop generator).
# SPDX-License-Identifier: GPL-3.0-or-later
include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/../cmake/DispatchAppId.cmake")

function(dispatch_macos_bundle target)
  set(icon "${PROJECT_SOURCE_DIR}/resources/icons/dispatch-console.icns")
  target_sources(${target} PRIVATE "${icon}")
  set_source_files_properties("${icon}" PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
  set_target_properties(${target} PROPERTIES
    MACOSX_BUNDLE TRUE
    OUTPUT_NAME "Dispatch Console"
    MACOSX_BUNDLE_INFO_PLIST "${PROJECT_SOURCE_DIR}/installers/macos/Info.plist.in"
    MACOSX_BUNDLE_GUI_IDENTIFIER "${DISPATCH_APP_ID}"
    MACOSX_BUNDLE_BUNDLE_NAME "Dispatch Console"
    MACOSX_BUNDLE_ICON_FILE "dispatch-console.icns"
    MACOSX_BUNDLE_SHORT_VERSION_STRING "${PROJECT_VERSION}"
    MACOSX_BUNDLE_BUNDLE_VERSION "${PROJECT_VERSION}"
    MACOSX_BUNDLE_COPYRIGHT "Copyright the Dispatch Console authors. GPL-3.0-or-later.")
endfunction()
