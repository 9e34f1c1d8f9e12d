// SPDX-License-Identifier: GPL-3.0-or-later
#include "theme.h"

#include <QApplication>
#include <QStyleFactory>

#include <cmath>

namespace dispatch::views {

namespace {

QPalette g_systemPalette;
bool g_systemCaptured = false;
Theme g_current = Theme::System;

} // namespace

QString themeKey(Theme theme)
{
    switch (theme) {
    case Theme::Light:
        return QStringLiteral("light");
    case Theme::Dark:
        return QStringLiteral("dark");
    case Theme::System:
        break;
    }
    return QStringLiteral("system");
}

Theme themeFromKey(const QString &key)
{
    if (key == QLatin1String("light"))
        return Theme::Light;
    if (key == QLatin1String("dark"))
        return Theme::Dark;
    return Theme::System;
}

void captureSystemPalette()
{
    if (g_systemCaptured)
        return;
    g_systemPalette = QGuiApplication::palette();
    g_systemCaptured = true;
}

bool isDarkPalette(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

QPalette lightPalette()
{
    QPalette p;
    const QColor window(0xf3, 0xf4, 0xf6);
    const QColor base(0xff, 0xff, 0xff);
    const QColor text(0x1f, 0x23, 0x28);
    const QColor highlight(0x2f, 0x6f, 0xd6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0xf6, 0xf8, 0xfa));
    p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xe8));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x6a, 0x73, 0x7d));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0xe9, 0xeb, 0xee));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xd7, 0x3a, 0x49));
    p.setColor(QPalette::Light, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::Midlight, QColor(0xe1, 0xe4, 0xe8));
    p.setColor(QPalette::Mid, QColor(0xc6, 0xcb, 0xd1));
    p.setColor(QPalette::Dark, QColor(0x9a, 0xa1, 0xa9));
    p.setColor(QPalette::Shadow, QColor(0x6a, 0x73, 0x7d));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x03, 0x66, 0xd6));
    p.setColor(QPalette::LinkVisited, QColor(0x6f, 0x42, 0xc1));
    const QColor disabled(0x8a, 0x92, 0x9a);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0xb0, 0xb8, 0xc4));
    return p;
}

QPalette darkPalette()
{
    QPalette p;
    // Fields darker than the window by a clear step: Fusion's frames are faint on dark palettes, so the
    // contrast between window and base is what shows where a field is.
    const QColor window(0x2b, 0x2f, 0x36);
    const QColor base(0x19, 0x1c, 0x21);
    const QColor text(0xe6, 0xe8, 0xeb);
    const QColor highlight(0x3d, 0x7e, 0xe0);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x20, 0x24, 0x2a));
    p.setColor(QPalette::ToolTipBase, QColor(0x30, 0x35, 0x3d));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8b, 0x94, 0x9e));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x3a, 0x40, 0x49));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x7b, 0x72));
    p.setColor(QPalette::Light, QColor(0x45, 0x4b, 0x54));
    p.setColor(QPalette::Midlight, QColor(0x38, 0x3e, 0x46));
    p.setColor(QPalette::Mid, QColor(0x2b, 0x30, 0x37));
    p.setColor(QPalette::Dark, QColor(0x14, 0x16, 0x1a));
    p.setColor(QPalette::Shadow, QColor(0x0b, 0x0c, 0x0e));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x58, 0xa6, 0xff));
    p.setColor(QPalette::LinkVisited, QColor(0xbc, 0x8c, 0xff));
    const QColor disabled(0x6e, 0x76, 0x81);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x3a, 0x40, 0x48));
    return p;
}

void applyTheme(Theme theme)
{
    captureSystemPalette();
    g_current = theme;
    if (auto *fusion = QStyleFactory::create(QStringLiteral("Fusion")))
        QApplication::setStyle(fusion);
    bool dark = false;
    switch (theme) {
    case Theme::Light:
        dark = false;
        break;
    case Theme::Dark:
        dark = true;
        break;
    case Theme::System:
        dark = isDarkPalette(g_systemPalette);
        break;
    }
    QApplication::setPalette(dark ? darkPalette() : lightPalette());
}

Theme currentTheme()
{
    return g_current;
}

StatusTone toneForStatus(const QString &status)
{
    const QString s = status.toUpper();
    if (s == QLatin1String("READY") || s == QLatin1String("RUNNING"))
        return StatusTone::Good;
    if (s == QLatin1String("ERROR"))
        return StatusTone::Bad;
    if (s == QLatin1String("INITIALIZED") || s == QLatin1String("CREATING") || s == QLatin1String("UPDATING")
        || s == QLatin1String("DELETING") || s == QLatin1String("WAITING") || s == QLatin1String("STARTING")
        || s == QLatin1String("STOPPING"))
        return StatusTone::Busy;
    if (s == QLatin1String("CRASHED") || s == QLatin1String("UNREACHABLE"))
        return StatusTone::Bad;
    if (s == QLatin1String("DELETED") || s == QLatin1String("MISSING"))
        return StatusTone::Warning;
    return StatusTone::Neutral;
}

QColor badgeFill(StatusTone tone, const QPalette &palette)
{
    const bool dark = isDarkPalette(palette);
    switch (tone) {
    case StatusTone::Good:
        return dark ? QColor(0x1f, 0x5f, 0x35) : QColor(0xd5, 0xf2, 0xdc);
    case StatusTone::Bad:
        return dark ? QColor(0x7a, 0x24, 0x24) : QColor(0xfb, 0xdc, 0xdc);
    case StatusTone::Busy:
        return dark ? QColor(0x1f, 0x44, 0x7a) : QColor(0xdb, 0xe9, 0xfb);
    case StatusTone::Warning:
        return dark ? QColor(0x6b, 0x52, 0x10) : QColor(0xfb, 0xee, 0xc8);
    case StatusTone::Neutral:
        break;
    }
    return dark ? QColor(0x3a, 0x40, 0x48) : QColor(0xe6, 0xe8, 0xeb);
}

QColor badgeText(StatusTone tone, const QPalette &palette)
{
    const bool dark = isDarkPalette(palette);
    if (dark)
        return QColor(0xf2, 0xf4, 0xf6);
    switch (tone) {
    case StatusTone::Good:
        return QColor(0x14, 0x4d, 0x24);
    case StatusTone::Bad:
        return QColor(0x86, 0x18, 0x1d);
    case StatusTone::Busy:
        return QColor(0x0d, 0x3c, 0x7a);
    case StatusTone::Warning:
        return QColor(0x5c, 0x40, 0x00);
    case StatusTone::Neutral:
        break;
    }
    return QColor(0x2d, 0x33, 0x3a);
}

QColor readableTextOn(const QColor &background)
{
    // Relative luminance per WCAG; the threshold picks the higher contrast of black and white.
    auto channel = [](double c) { return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
    const double l = 0.2126 * channel(background.redF()) + 0.7152 * channel(background.greenF())
                     + 0.0722 * channel(background.blueF());
    return l > 0.179 ? QColor(Qt::black) : QColor(Qt::white);
}

} // namespace dispatch::views
