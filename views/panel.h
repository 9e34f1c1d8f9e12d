// A navigation page of the main window. Every panel has a filter box that "/" focuses.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class QLineEdit;

namespace dispatch::views {

class Panel : public QWidget
{
    Q_OBJECT
public:
    using QWidget::QWidget;

    virtual QString title() const = 0;
    // The search box "/" focuses; null when the panel has none.
    virtual QLineEdit *filterEdit() const { return nullptr; }
    // Called when the page becomes visible or the context changes.
    virtual void activate() {}
};

} // namespace dispatch::views
