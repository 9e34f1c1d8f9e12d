# The application's reverse-DNS id, shared by the desktop file, the AppStream metadata and the macOS bundle.
# SPDX-License-Identifier: GPL-3.0-or-later
include_guard(GLOBAL)
set(DISPATCH_APP_ID "io.github.dispatchconsole.DispatchConsole" CACHE STRING
  "Reverse-DNS application id: desktop file, AppStream metadata, macOS bundle identifier")
