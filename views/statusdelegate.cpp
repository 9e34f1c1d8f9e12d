// SPDX-License-Identifier: GPL-3.0-or-later
#include "statusdelegate.h"

#include "theme.h"

#include <QAbstractItemView>
#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

namespace dispatch::views {

namespace {

constexpr int kPadX = 7;
constexpr int kPadY = 2;
constexpr int kIndicator = 9;

QString iconGlyph(StatusTone tone)
{
    // A shape as well as a colour: ✓ ready, ✕ error, ! warning (busy states get the spinner).
    switch (tone) {
    case StatusTone::Good:
        return QStringLiteral("\u2713");
    case StatusTone::Bad:
        return QStringLiteral("\u2715");
    case StatusTone::Warning:
        return QStringLiteral("!");
    case StatusTone::Busy:
    case StatusTone::Neutral:
        break;
    }
    return {};
}

} // namespace

StatusDelegate::StatusDelegate(QAbstractItemView *view, ReasonProvider reason)
    : QStyledItemDelegate(view), m_view(view), m_reason(std::move(reason))
{
    m_timer.setInterval(90);
    connect(&m_timer, &QTimer::timeout, this, &StatusDelegate::tick);
    m_timer.start();
}

void StatusDelegate::tick()
{
    // Repaint only while something busy was on screen: an idle table costs nothing.
    if (!m_busyPainted || !m_view)
        return;
    m_busyPainted = false;
    m_phase = (m_phase + 1) % 12;
    m_view->viewport()->update();
}

QSize StatusDelegate::badgeSize(const QFontMetrics &fm, const QString &status)
{
    const StatusTone tone = toneForStatus(status);
    int w = fm.horizontalAdvance(status) + 2 * kPadX;
    if (tone == StatusTone::Busy || !iconGlyph(tone).isEmpty())
        w += kIndicator + 5;
    return {w, fm.height() + 2 * kPadY};
}

void StatusDelegate::paintBadge(QPainter *painter, const QRect &rect, const QString &status,
                                const QPalette &palette, int phase, bool selected)
{
    if (status.isEmpty())
        return;
    const StatusTone tone = toneForStatus(status);
    const QFontMetrics fm(painter->font());
    const QSize size = badgeSize(fm, status);
    QRect badge(rect.left(), rect.top() + (rect.height() - size.height()) / 2, std::min(size.width(), rect.width()),
                size.height());
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, true);
    QColor fill = badgeFill(tone, palette);
    QColor text = badgeText(tone, palette);
    painter->setPen(selected ? QPen(palette.color(QPalette::HighlightedText), 1) : Qt::NoPen);
    painter->setBrush(fill);
    painter->drawRoundedRect(QRectF(badge).adjusted(0.5, 0.5, -0.5, -0.5), badge.height() / 2.0,
                             badge.height() / 2.0);
    int x = badge.left() + kPadX;
    const int cy = badge.center().y();
    if (tone == StatusTone::Busy) {
        // Spinner: twelve spokes with a rotating bright one.
        const QPointF c(x + kIndicator / 2.0, cy + 0.5);
        for (int i = 0; i < 12; ++i) {
            QColor spoke = text;
            spoke.setAlphaF(0.2 + 0.8 * (((i - phase + 12) % 12) / 11.0));
            painter->setPen(QPen(spoke, 1.6, Qt::SolidLine, Qt::RoundCap));
            painter->save();
            painter->translate(c);
            painter->rotate(i * 30.0);
            painter->drawLine(QPointF(0, -kIndicator / 2.0 + 0.5), QPointF(0, -kIndicator / 4.5));
            painter->restore();
        }
        x += kIndicator + 5;
    } else if (const QString glyph = iconGlyph(tone); !glyph.isEmpty()) {
        painter->setPen(text);
        QFont f = painter->font();
        f.setBold(true);
        painter->setFont(f);
        painter->drawText(QRect(x, badge.top(), kIndicator + 2, badge.height()), Qt::AlignCenter, glyph);
        x += kIndicator + 5;
    }
    QFont f = painter->font();
    f.setBold(false);
    painter->setFont(f);
    painter->setPen(text);
    painter->drawText(QRect(x, badge.top(), badge.right() - x - kPadX + 2, badge.height()),
                      Qt::AlignVCenter | Qt::AlignLeft, fm.elidedText(status, Qt::ElideRight, badge.right() - x));
    painter->restore();
}

void StatusDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QString status = opt.text;
    opt.text.clear();
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : nullptr;
    if (style)
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);
    const bool busy = toneForStatus(status) == StatusTone::Busy;
    if (busy)
        m_busyPainted = true;
    painter->save();
    painter->setFont(option.font);
    paintBadge(painter, option.rect.adjusted(4, 1, -4, -1), status, option.palette, busy ? m_phase : 0,
               option.state.testFlag(QStyle::State_Selected));
    painter->restore();
}

QSize StatusDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    const QSize b = badgeSize(option.fontMetrics, index.data(Qt::DisplayRole).toString());
    return {std::max(s.width(), b.width() + 8), std::max(s.height(), b.height() + 4)};
}

bool StatusDelegate::helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                               const QModelIndex &index)
{
    if (event->type() == QEvent::ToolTip && m_reason) {
        const QString reason = m_reason(index);
        if (!reason.isEmpty()) {
            QToolTip::showText(event->globalPos(), reason, view);
            return true;
        }
    }
    return QStyledItemDelegate::helpEvent(event, view, option, index);
}

} // namespace dispatch::views
