// A thin bar in the context's colour with its name: at the top of the window and of every dialog that changes
// something, so nobody acts on production by mistake.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QColor>
#include <QLabel>

namespace dispatch::views {

class ContextBanner : public QLabel
{
    Q_OBJECT
public:
    explicit ContextBanner(QWidget *parent = nullptr);
    void setContext(const QString &name, const QColor &color, const QString &detail = {});
    QColor color() const { return m_color; }

private:
    QColor m_color;
};

} // namespace dispatch::views
