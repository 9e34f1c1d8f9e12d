// SPDX-License-Identifier: GPL-3.0-or-later
#include "contextbanner.h"

#include "theme.h"

namespace dispatch::views {

ContextBanner::ContextBanner(QWidget *parent) : QLabel(parent)
{
    setObjectName(QStringLiteral("contextBanner"));
    setAutoFillBackground(true);
    setMargin(3);
    setIndent(8);
    setTextFormat(Qt::PlainText);
    setAccessibleName(tr("Current context"));
}

void ContextBanner::setContext(const QString &name, const QColor &color, const QString &detail)
{
    m_color = color.isValid() ? color : QColor(0x6a, 0x73, 0x7d);
    QPalette p = palette();
    p.setColor(QPalette::Window, m_color);
    p.setColor(QPalette::WindowText, readableTextOn(m_color));
    setPalette(p);
    setText(detail.isEmpty() ? tr("Context: %1").arg(name) : tr("Context: %1 \u2014 %2").arg(name, detail));
}

} // namespace dispatch::views
