// SPDX-License-Identifier: GPL-3.0-or-later
#include "messagebar.h"

#include "statusdelegate.h"
#include "theme.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QToolButton>

namespace dispatch::views {

MessageBar::MessageBar(QWidget *parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("messageBar"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    m_icon = new QLabel(this);
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("messageText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_close = new QToolButton(this);
    m_close->setText(QStringLiteral("\u2715"));
    m_close->setAutoRaise(true);
    m_close->setAccessibleName(tr("Close message"));
    m_close->setToolTip(tr("Close message"));
    layout->addWidget(m_icon);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_close);
    connect(m_close, &QToolButton::clicked, this, &MessageBar::hide);
    m_hide.setSingleShot(true);
    connect(&m_hide, &QTimer::timeout, this, &MessageBar::hide);
    hide();
}

void MessageBar::changeEvent(QEvent *event)
{
    QFrame::changeEvent(event);
    if (event->type() == QEvent::ApplicationPaletteChange && isVisible())
        applyColors(); // a theme switch while a message shows
}

void MessageBar::applyColors()
{
    const Kind kind = m_kind;
    const StatusTone tone = kind == Kind::Error ? StatusTone::Bad
                            : kind == Kind::Success ? StatusTone::Good
                                                    : StatusTone::Busy;
    QPalette p = palette();
    const QPalette app = parentWidget() ? parentWidget()->palette() : palette();
    p.setColor(QPalette::Window, badgeFill(tone, app));
    p.setColor(QPalette::WindowText, badgeText(tone, app));
    setPalette(p);
}

void MessageBar::showMessage(Kind kind, const QString &text)
{
    m_kind = kind;
    applyColors();
    m_icon->setText(kind == Kind::Error ? QStringLiteral("\u2715") : kind == Kind::Success ? QStringLiteral("\u2713")
                                                                                           : QStringLiteral("\u2139"));
    m_text->setText(text);
    show();
    if (kind == Kind::Error)
        m_hide.stop();
    else
        m_hide.start(6000);
}

QString MessageBar::text() const
{
    return m_text->text();
}

StatusBadge::StatusBadge(QWidget *parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    m_spin.setInterval(90);
    connect(&m_spin, &QTimer::timeout, this, [this] {
        m_phase = (m_phase + 1) % 12;
        update();
    });
}

void StatusBadge::setStatus(const QString &status, const QString &reason)
{
    m_status = status;
    setToolTip(reason);
    setAccessibleName(tr("Status: %1").arg(status.isEmpty() ? tr("none") : status));
    setAccessibleDescription(reason);
    if (toneForStatus(status) == StatusTone::Busy)
        m_spin.start();
    else
        m_spin.stop();
    updateGeometry();
    update();
}

QSize StatusBadge::sizeHint() const
{
    if (m_status.isEmpty())
        return {0, fontMetrics().height()};
    return StatusDelegate::badgeSize(fontMetrics(), m_status) + QSize(2, 2);
}

void StatusBadge::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    StatusDelegate::paintBadge(&p, rect().adjusted(1, 1, -1, -1), m_status, palette(), m_phase);
}

} // namespace dispatch::views
