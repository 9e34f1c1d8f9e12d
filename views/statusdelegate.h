// Paints a status as a badge: text plus colour (never colour alone), an animated indicator for in-progress
// states, and the reason as the tooltip of an ERROR.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QPointer>
#include <QStyledItemDelegate>
#include <QTimer>

#include <functional>

class QAbstractItemView;

namespace dispatch::views {

class StatusDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    // Returns the reason shown as tooltip (e.g. ERROR reasons); empty = the model's ToolTipRole.
    using ReasonProvider = std::function<QString(const QModelIndex &)>;

    explicit StatusDelegate(QAbstractItemView *view, ReasonProvider reason = {});

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    bool helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                   const QModelIndex &index) override;

    // Paints one badge; used by the delegate and by widgets outside views (detail panes, status bar).
    static void paintBadge(QPainter *painter, const QRect &rect, const QString &status, const QPalette &palette,
                           int phase, bool selected = false);
    static QSize badgeSize(const QFontMetrics &fm, const QString &status);

private:
    void tick();

    QPointer<QAbstractItemView> m_view;
    ReasonProvider m_reason;
    QTimer m_timer;
    int m_phase = 0;
    mutable bool m_busyPainted = false;
};

} // namespace dispatch::views
