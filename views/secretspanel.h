// Secrets: key names only by default; values revealed on demand (fetched then) and hidden again after 30 s.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcepanel.h"
#include "formdialog.h"
#include "resourceview.h"

#include <QPointer>
#include <QTimer>

class QLabel;
class QPushButton;
class QTableWidget;

namespace dispatch::views {

class FormDialog;

class SecretsView : public ResourceView
{
    Q_OBJECT
public:
    static constexpr int kRevealSeconds = 30;
    explicit SecretsView(Workspace *workspace, QWidget *parent = nullptr);
    FormDialog *formDialog() const { return m_form; }
    bool isRevealed() const { return m_revealed; }
    QTableWidget *valuesTable() const { return m_values; }
    QPushButton *revealButton() const { return m_reveal; }

public slots:
    void createItem() override;
    void editItem() override;
    void reveal();
    void hideValues();

protected:
    QList<QPair<QString, QString>> keyFields(const Json &object) const override;
    QStringList dependantsOf(const QString &name) const override;
    QString emptyText() const override;
    void currentChanged(const Json &object) override;

private:
    void openSecretForm(const Json &existing, const Json &values);
    void showKeys(const Json &object);

    QPointer<FormDialog> m_form;
    QTableWidget *m_values = nullptr;
    QPushButton *m_reveal = nullptr;
    QLabel *m_countdown = nullptr;
    QTimer m_tick;
    int m_remaining = 0;
    bool m_revealed = false;
    QString m_shownName;
};

class SecretsPanel : public ResourcePanel
{
    Q_OBJECT
public:
    explicit SecretsPanel(Workspace *workspace, QWidget *parent = nullptr);
    SecretsView *view() const { return m_view; }

private:
    SecretsView *m_view = nullptr;
};

} // namespace dispatch::views
