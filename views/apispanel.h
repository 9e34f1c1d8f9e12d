// APIs: HTTP endpoints of functions, their gateway URLs (copy to clipboard) and a "Try it" pane that sends a
// request to the gateway and shows status, headers, body and time.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcepanel.h"
#include "formdialog.h"
#include "resourceview.h"

#include <QElapsedTimer>
#include <QPointer>

class QComboBox;
class QLabel;
class QLineEdit;
class QNetworkAccessManager;
class QPlainTextEdit;
class QPushButton;

namespace dispatch::views {

class FormDialog;

class ApisView : public ResourceView
{
    Q_OBJECT
public:
    explicit ApisView(Workspace *workspace, QWidget *parent = nullptr);
    FormDialog *formDialog() const { return m_form; }
    QString gatewayUrl(const Json &api) const; // the first URI on the gateway, "" when unknown
    QPushButton *sendButton() const { return m_send; }
    QLabel *responseStatus() const { return m_responseStatus; }
    QPlainTextEdit *responseBody() const { return m_responseBody; }
    QLineEdit *tryPath() const { return m_path; }
    QPlainTextEdit *tryBody() const { return m_body; }

public slots:
    void sendTryIt();

protected:
    QList<QPair<QString, QString>> keyFields(const Json &object) const override;
    QString emptyText() const override;
    void currentChanged(const Json &object) override;

private:
    void openForm(const Json &existing) override;

    QPointer<FormDialog> m_form;
    QLabel *m_url = nullptr;
    QPushButton *m_copy = nullptr;
    QComboBox *m_method = nullptr;
    QLineEdit *m_path = nullptr;
    QPlainTextEdit *m_body = nullptr;
    QPushButton *m_send = nullptr;
    QLabel *m_responseStatus = nullptr;
    QPlainTextEdit *m_responseHeaders = nullptr;
    QPlainTextEdit *m_responseBody = nullptr;
    QNetworkAccessManager *m_nam = nullptr;
};

class ApisPanel : public ResourcePanel
{
    Q_OBJECT
public:
    explicit ApisPanel(Workspace *workspace, QWidget *parent = nullptr);
    ApisView *view() const { return m_view; }

private:
    ApisView *m_view = nullptr;
};

} // namespace dispatch::views
