; Windows installer of Dispatch Console (NSIS 3, 64-bit, Unicode).
;
; Standalone: packages a staged install tree (cmake --install <build> --prefix <STAGING>):
;   makensis /DVERSION=0.1.0 /DSTAGING=<dir> /DOUTFILE=<setup.exe> [/DLICENSE=<COPYING>] [/DICON=<.ico>]
;            installers/windows/dispatch-console.nsi
; CPack (cmake --build <build> --target package on Windows) compiles it through NSIS.template.in, which sets the
; same defines. tests/packaging/check-nsis.sh compiles it on Linux with a placeholder payload.
; SPDX-License-Identifier: GPL-3.0-or-later

!ifndef VERSION
  !error "define VERSION, e.g. makensis /DVERSION=0.1.0"
!endif
!ifndef STAGING
  !error "define STAGING: the directory of a 'cmake --install --prefix' tree"
!endif
!ifndef OUTFILE
  !define OUTFILE "dispatch-console-${VERSION}-win64.exe"
!endif
!ifndef LICENSE
  !define LICENSE "${__FILEDIR__}\..\..\COPYING"
!endif
!ifndef ICON
  !define ICON "${__FILEDIR__}\..\..\resources\icons\dispatch-console.ico"
!endif

!define PRODUCT "Dispatch Console"
!define PUBLISHER "The Dispatch Console authors"
!define EXE "bin\dispatch-console.exe"
!define REGKEY "Software\Dispatch Console"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Dispatch Console"

Target amd64-unicode
SetCompressor /SOLID lzma
ManifestDPIAware true
RequestExecutionLevel admin

!include "MUI2.nsh"
!include "x64.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
InstallDirRegKey HKLM "${REGKEY}" "InstallDir"
BrandingText "${PRODUCT} ${VERSION}"

; VIProductVersion wants four numbers; a version like 0.1.0 gets ".0".
!searchparse /noerrors "${VERSION}.0.0.0" "" V1 "." V2 "." V3 "."
VIProductVersion "${V1}.${V2}.${V3}.0"
VIAddVersionKey /LANG=1033 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "GPL-3.0-or-later"
VIAddVersionKey /LANG=1033 "FileDescription" "${PRODUCT} installer"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_NOTCHECKED

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "${LICENSE}"
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "${PRODUCT} needs 64-bit Windows."
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "${PRODUCT}" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File /r "${STAGING}\*.*"
  WriteUninstaller "$INSTDIR\Uninstall.exe"

  WriteRegStr HKLM "${REGKEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${REGKEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKLM "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINSTKEY}" "EstimatedSize" "$0"

  SetShellVarContext all
  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\${EXE}"
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  SetShellVarContext all
  CreateShortcut "$DESKTOP\${PRODUCT}.lnk" "$INSTDIR\${EXE}"
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} "The console, its Qt libraries and the licence."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "A shortcut on the desktop of every user."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Section "Uninstall"
  SetShellVarContext all
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  Delete "$DESKTOP\${PRODUCT}.lnk"
  ; Only what a staged install tree contains (GNU layout plus Qt's deployment), never the whole $INSTDIR:
  ; the user may have chosen a directory that holds other files.
  RMDir /r "$INSTDIR\bin"
  RMDir /r "$INSTDIR\libexec"
  RMDir /r "$INSTDIR\lib"
  RMDir /r "$INSTDIR\plugins"
  RMDir /r "$INSTDIR\translations"
  RMDir /r "$INSTDIR\share\dispatch-console"
  RMDir /r "$INSTDIR\share\doc\dispatch-console"
  RMDir "$INSTDIR\share\doc"
  RMDir "$INSTDIR\share"
  Delete "$INSTDIR\qt.conf"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTKEY}"
  DeleteRegKey HKLM "${REGKEY}"
SectionEnd
