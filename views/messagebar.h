// An inline message under a toolbar: the outcome of an action ("Deleted 2 functions", "Cannot reach ..."),
// with a close button; errors stay until closed, information fades after a few seconds.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QFrame>
#include <QTimer>

class QLabel;
class QToolButton;

namespace dispatch::views {

class MessageBar : public QFrame
{
    Q_OBJECT
public:
    enum class Kind
    {
        Info,
        Success,
        Error
    };
    explicit MessageBar(QWidget *parent = nullptr);
    void showMessage(Kind kind, const QString &text);
    QString text() const;
    Kind kind() const { return m_kind; }

protected:
    void changeEvent(QEvent *event) override;

private:
    void applyColors();
    QLabel *m_icon = nullptr;
    QLabel *m_text = nullptr;
    QToolButton *m_close = nullptr;
    QTimer m_hide;
    Kind m_kind = Kind::Info;
};

// A small widget that paints one status badge (detail panes, server panel).
class StatusBadge : public QWidget
{
    Q_OBJECT
public:
    explicit StatusBadge(QWidget *parent = nullptr);
    void setStatus(const QString &status, const QString &reason = {});
    QString status() const { return m_status; }
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QString m_status;
    QTimer m_spin;
    int m_phase = 0;
};

} // namespace dispatch::views
