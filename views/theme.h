// Themes: Fusion with our own light and dark palettes (Qt 6.4 has no colour-scheme API), plus the colours that
// carry meaning (status badges, context strip text) so they stay readable in both.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QColor>
#include <QPalette>
#include <QString>

class QApplication;

namespace dispatch::views {

enum class Theme
{
    System,
    Light,
    Dark
};

QString themeKey(Theme theme); // "system", "light", "dark" (stored in QSettings)
Theme themeFromKey(const QString &key);

// Remembers the platform palette once (call before the first applyTheme) so "System" can return to it.
void captureSystemPalette();
// Sets Fusion and the palette; "System" follows the platform palette's lightness.
void applyTheme(Theme theme);
Theme currentTheme();
bool isDarkPalette(const QPalette &palette);

QPalette lightPalette();
QPalette darkPalette();

enum class StatusTone
{
    Neutral,
    Good,
    Bad,
    Busy,
    Warning
};
StatusTone toneForStatus(const QString &status);
// Badge fill and text colours for a tone on the given palette (contrast ≥ 4.5:1 in both themes).
QColor badgeFill(StatusTone tone, const QPalette &palette);
QColor badgeText(StatusTone tone, const QPalette &palette);
// Black or white, whichever reads better on `background`.
QColor readableTextOn(const QColor &background);

} // namespace dispatch::views
